// tagwise studio: a little vanilla JS on top of pages that work without it.
// Keyboard tagging, upload progress, training progress polling, select-all, announcements.
(function () {
  "use strict";
  // Controls only the script makes work (.js-only: select-all, the class filter, shortcut hints) show from now on.
  document.documentElement.classList.add("js");
  // A page that answers a form (a refusal, a Try it result) shows the page the form was on as its
  // address: a reload then reads that page again instead of asking to send the form a second time.
  if (document.body && document.body.dataset.replaceUrl && window.history && history.replaceState) {
    history.replaceState(null, "", document.body.dataset.replaceUrl);
  }

  function typing(el) {
    if (!el) return false;
    var tag = el.tagName;
    return tag === "TEXTAREA" || tag === "SELECT" || (tag === "INPUT" && !/^(checkbox|radio|submit|button)$/.test(el.type));
  }
  function interactive(el) {
    return el && (typing(el) || /^(BUTTON|A|SUMMARY|INPUT)$/.test(el.tagName));
  }
  function click(id) {
    var el = document.getElementById(id);
    if (el) { el.click(); return true; }
    return false;
  }
  // The session is gone (signed out in another tab, expired, key revoked): say so, with a link back here.
  function signedOut(el) {
    var link = document.createElement("a");
    link.href = "/studio?next=" + encodeURIComponent(window.location.pathname + window.location.search);
    link.textContent = "sign in again";
    el.textContent = "Signed out: ";
    el.appendChild(link);
  }

  // Say something through a live region: emptied first, so the same words twice are heard twice.
  function announce(text, region) {
    var el = region || document.getElementById("announce");
    if (!el || !text) return;
    el.textContent = "";
    setTimeout(function () { el.textContent = text; }, 100);
  }

  // -- tagging ----------------------------------------------------------------------------
  function setupTagging() {
    if (document.body.dataset.page !== "tag") return;
    var form = document.getElementById("tag-form");
    // getAttribute, not form.dataset: a control named "dataset" (the Train/Test filter) shadows that property
    var multi = !!form && form.getAttribute("data-kind") === "multi";
    var filter = document.getElementById("class-filter");
    var items = Array.prototype.slice.call(document.querySelectorAll("#class-list li"));

    function control(li) { return li.querySelector(multi ? "input[type=checkbox]" : "button"); }
    function visible() { return items.filter(function (li) { return !li.hidden; }); }
    // single-key shortcuts can be turned off (a misheard digit in speech input saved a tag; WCAG 2.1.4)
    var shortcuts = document.getElementById("shortcuts");
    var advertised = Array.prototype.slice.call(document.querySelectorAll("[aria-keyshortcuts]"));
    advertised.forEach(function (el) { el.dataset.shortcut = el.getAttribute("aria-keyshortcuts"); });
    // off, nothing advertises them: the hints are hidden and the controls lose aria-keyshortcuts
    function showShortcuts(on) {
      document.documentElement.classList.toggle("no-shortcuts", !on);
      advertised.forEach(function (el) {
        if (on) { el.setAttribute("aria-keyshortcuts", el.dataset.shortcut); } else { el.removeAttribute("aria-keyshortcuts"); }
      });
    }
    if (shortcuts) {
      try { shortcuts.checked = window.localStorage.getItem("tagwise.shortcuts") !== "off"; } catch (err) { /* storage blocked: on */ }
      showShortcuts(shortcuts.checked);
      shortcuts.addEventListener("change", function () {
        try { window.localStorage.setItem("tagwise.shortcuts", shortcuts.checked ? "on" : "off"); } catch (err) { /* kept for this page only */ }
        showShortcuts(shortcuts.checked);
        announce(shortcuts.checked ? "Single-key shortcuts on." : "Single-key shortcuts off: tab to a class to tag.");
      });
    }
    function shortcutsOn() { return !shortcuts || shortcuts.checked; }
    // a key or the filter's Enter ticks or unticks a class: said, as suggested classes start ticked (it was silent)
    function toggle(box) {
      box.checked = !box.checked;
      var ticked = Array.prototype.slice.call(form.querySelectorAll("input[name=tag]:checked")).map(function (b) { return b.value; });
      announce(box.value + (box.checked ? " ticked" : " unticked") + " (" +
               (ticked.length ? ticked.length + " ticked: " + ticked.join(", ") : "none ticked: saving gives no class") + ")");
    }
    // accents, case and ß do not matter when filtering: "ruck" finds "Rückerstattung", as the Data page's search does
    // NFKD: full-width and half-width forms too ("ﾛｸﾞｲﾝ" finds "ログイン", "ｌｏｇｉｎ" finds "login"), as the Data page's search does
    // and, as that search: Arabic's harakat, superscript alif and tatweel, Hebrew's points, the hamza forms of alif ("الغاء" finds "إلغاء")
    function fold(text) {
      return text.normalize("NFKD").replace(/[\u0300-\u036f\u3099\u309a\u064b-\u065f\u0670\u0640\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7]/g, "")
        .replace(/[\u0623\u0625\u0622\u0671]/g, "\u0627").replace(/\u0649/g, "\u064a").replace(/\u0629/g, "\u0647").toLowerCase().replace(/ß/g, "ss");
    }
    items.forEach(function (li) { li.dataset.folded = fold(li.dataset.name); });
    function applyFilter() {
      var q = fold(filter.value.trim());
      items.forEach(function (li) { li.hidden = q !== "" && li.dataset.folded.indexOf(q) === -1; li.classList.remove("first-match"); });
      var shown = visible(), first = shown[0];
      if (q && first) first.classList.add("first-match");
      var none = document.getElementById("filter-none");
      if (none) none.hidden = !(q && !first);
      // which class Enter takes was only a dashed outline, and no match was an empty list: said once typing
      // pauses (each keystroke's count was said, five times for "admir")
      clearTimeout(filterSaid);
      if (q) filterSaid = setTimeout(function () {
        announce(first ? shown.length + (shown.length === 1 ? " class matches" : " classes match") + "; Enter " +
                 (multi ? "toggles " : "picks ") + control(first).value : "No class matches.");
      }, 400);
    }
    var filterSaid = null;
    function pick(li) {
      var c = control(li);
      if (!c) return;
      if (multi) { toggle(c); } else { c.click(); }
    }
    if (filter) {
      filter.addEventListener("input", applyFilter);
      filter.addEventListener("keydown", function (e) {
        if (e.key === "Enter" && !e.isComposing && e.keyCode !== 229) {  // not the Enter that ends an input method's composition
          e.preventDefault();
          var first = visible()[0];
          if (filter.value.trim() === "") { if (multi) form.requestSubmit(); return; }
          if (first) { pick(first); if (multi) { filter.value = ""; applyFilter(); filter.blur(); } }
        } else if (e.key === "Escape") {
          filter.value = ""; applyFilter(); filter.blur();
        } else if (e.key === "ArrowDown") {
          var v = visible()[0];
          if (v) { e.preventDefault(); control(v).focus(); }
        }
      });
    }

    document.addEventListener("keydown", function (e) {
      if (e.ctrlKey || e.metaKey || e.altKey) {
        if ((e.ctrlKey || e.metaKey) && e.key === "z" && !typing(e.target)) { if (click("undo")) e.preventDefault(); }
        return;
      }
      if (typing(e.target) || !shortcutsOn()) return;
      var key = e.key;
      if (/^[0-9]$/.test(key) && form) {
        var target = form.querySelector('[data-key="' + key + '"]');
        if (target) { e.preventDefault(); if (multi) { toggle(target); } else { target.click(); } }
        return;
      }
      if (key === "Enter" && !interactive(e.target)) {
        e.preventDefault();
        if (multi) { form.requestSubmit(); } else if (form) { click("accept"); }
        return;
      }
      if (key === "ArrowRight") { if (click("next")) e.preventDefault(); return; }
      if (key === "ArrowLeft") { if (click("prev")) e.preventDefault(); return; }
      if (key === "Backspace") { if (click("undo")) e.preventDefault(); return; }
      if (key === "Escape" && filter) { filter.value = ""; applyFilter(); return; }
      if (filter && key.length === 1 && /\S/.test(key)) {
        // Start type-to-filter: the character lands in the filter box.
        filter.focus();
      }
    });
  }

  // -- uploads with progress ------------------------------------------------------------------
  function setupUpload() {
    var form = document.getElementById("upload-form");
    if (!form || !window.XMLHttpRequest || !window.FormData) return;
    var bar = document.getElementById("upload-progress");
    var status = document.getElementById("upload-status");
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      bar.hidden = false; bar.value = 0; status.textContent = "Uploading…";
      xhr.upload.addEventListener("progress", function (ev) {
        if (ev.lengthComputable) {
          bar.value = Math.round(100 * ev.loaded / ev.total);
          status.textContent = ev.loaded < ev.total ? "Uploading… " + bar.value + "%" : "Processing…";
        }
      });
      xhr.addEventListener("load", function () {
        bar.hidden = true; status.className = "small flash error";
        if (xhr.status === 401) { signedOut(status); return; }
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (err) { body = {message: "The server answered " + xhr.status + "."}; }
        if (xhr.status < 300 && body.ok) { window.location.assign(body.redirect); return; }
        // the upload's own answer ({ok, message}) or the studio's error envelope ({error: {code, message}})
        status.textContent = body.message || (body.error && body.error.message) || "The upload failed.";
      });
      xhr.addEventListener("error", function () { bar.hidden = true; status.textContent = "The upload failed: the server could not be reached."; });
      xhr.send(new FormData(form));
    });
  }

  // -- training progress -----------------------------------------------------------------------
  function setupJob() {
    var box = document.getElementById("job");
    if (!box || box.dataset.done === "true") return;
    var url = box.dataset.statusUrl;
    var stop = {};
    var live = document.getElementById("job-announce");
    var words = {notStarted: "waiting to start", running: "running", succeeded: "succeeded", failed: "failed",
                 cancelling: "cancelling", cancelled: "cancelled"};
    // not chatty: the status when it changes and each quarter done, not every percent
    var lastStatus = document.getElementById("job-status").textContent.trim();
    var lastQuarter = Math.floor((parseInt(document.getElementById("job-percent").textContent, 10) || 0) / 25);
    function poll() {
      fetch(url, {headers: {"Accept": "application/json"}, credentials: "same-origin"}).then(function (r) {
        if (r.status === 401) {
          var p = document.createElement("p"); p.className = "flash error"; signedOut(p);
          document.getElementById("job-errors").appendChild(p);
          throw stop;  // asking again cannot help until the user signs in
        }
        if (!r.ok) throw new Error("status " + r.status);
        return r.json();
      }).then(function (s) {
        var status = document.getElementById("job-status");
        status.textContent = s.status; status.className = "status " + s.status;
        document.getElementById("job-progress").value = s.percent;
        document.getElementById("job-percent").textContent = s.percent + "%";
        var quarter = Math.floor(s.percent / 25);
        if (!s.done && s.status !== lastStatus) {
          announce("Training " + (words[s.status] || s.status) + (s.percent ? ", " + s.percent + "% done." : "."), live);
        } else if (!s.done && quarter > lastQuarter && quarter < 4) {
          announce("Training " + quarter * 25 + "% done.", live);
        }
        lastStatus = s.status; lastQuarter = quarter;
        if (s.errors && s.errors.length) {
          var errors = document.getElementById("job-errors");
          errors.textContent = "";
          s.errors.forEach(function (m) { var p = document.createElement("p"); p.className = "flash error"; p.textContent = m; errors.appendChild(p); });
        }
        if (s.done) {
          var cancel = document.getElementById("cancel-form");
          if (cancel) cancel.hidden = true;
          document.getElementById("job-scores").textContent = s.scores || "";
          var verdict = document.getElementById("job-verdict");
          verdict.textContent = s.verdict || ""; verdict.hidden = !s.verdict;
          var warnings = document.getElementById("job-warnings");
          warnings.textContent = "";
          (s.warnings || []).forEach(function (m) { var p = document.createElement("p"); p.className = "warning"; p.textContent = m; warnings.appendChild(p); });
          if (s.status === "succeeded") { document.getElementById("job-done").hidden = false; document.getElementById("open-evaluation").focus(); }
          // how it ended, with the headline scores (errors and the baseline verdict are alerts of their own)
          announce("Training " + (words[s.status] || s.status) + "." + (s.scores ? " " + s.scores : ""), live);
          return;
        }
        setTimeout(poll, 700);
      }).catch(function (err) { if (err !== stop) setTimeout(poll, 2000); });
    }
    setTimeout(poll, 300);
  }

  // -- a check of the tags running in the background: reload the page once it is done -------------
  function setupIssuesPoll() {
    // the check just ended (this page reloaded itself): its result gets the focus and is said
    // (a check that failed: why, not the result of the one before)
    var done = document.getElementById("issues-failed") || document.getElementById("issues-last"), key = "tagwise-issues-done";
    try {
      if (done && sessionStorage.getItem(key) === location.pathname) {
        sessionStorage.removeItem(key);
        var heading = document.getElementById("issues");
        if (heading) { heading.setAttribute("tabindex", "-1"); heading.focus(); }
        announce(done.textContent.replace(/\s+/g, " ").trim());
      }
    } catch (e) { /* storage refused: the page still shows the result */ }
    var running = document.getElementById("issues-running");
    if (!running) return;
    var elapsed = document.getElementById("issues-elapsed");  // not in the live region: a count each 1.5 s is chatter
    function poll() {
      fetch(running.dataset.poll, {headers: {"Accept": "application/json"}, credentials: "same-origin"}).then(function (r) {
        if (!r.ok) throw new Error("status " + r.status);
        return r.json();
      }).then(function (s) {
        if (s.running) {
          if (elapsed && typeof s.seconds === "number") elapsed.textContent = " Running for " + s.seconds + " s.";
          setTimeout(poll, 1500); return;
        }
        try { sessionStorage.setItem(key, location.pathname); } catch (e) { /* no storage: no announcement */ }
        location.hash = "issues";
        location.reload();
      }).catch(function () { setTimeout(poll, 5000); });
    }
    setTimeout(poll, 1500);
  }

  // -- small things ----------------------------------------------------------------------------
  function setupSelectAll() {
    document.querySelectorAll("[data-select-all]").forEach(function (box) {
      box.addEventListener("change", function () {
        document.querySelectorAll('input[name="' + box.dataset.selectAll + '"]').forEach(function (c) { c.checked = box.checked; });
      });
    });
  }
  function setupTry() {
    var text = document.getElementById("try-text");
    if (!text) return;
    text.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); document.getElementById("try-form").requestSubmit(); }
    });
  }

  // A live region speaks of changes only, not of what a page opens with: say what just happened
  // (e.g. the Tag page's "Saved.") once the page is there.
  function setupAnnouncements() {
    // a page's own words, else the message of what was just done ("Tagged ..." after Use suggestion)
    // an error too: an alert a page opens with is not read by every screen reader (a refused save went unsaid)
    var said = document.querySelector("[data-announce]") || document.querySelector("#flash");
    if (said) announce(said.textContent.replace(/\s+/g, " ").trim());
  }

  // The sticky message at the top of a page must not hide what gets the focus or what a link's #anchor opens at.
  function setupStickyRoom() {
    var sticky = document.querySelector(".flash.sticky");
    if (sticky) document.documentElement.style.scrollPaddingTop = Math.ceil(sticky.getBoundingClientRect().height + 16) + "px";
  }

  // A table wider than its box scrolls sideways, but Chromium lets the keyboard into such a box only while
  // it holds nothing focusable: on a phone the per-class table's links kept its F1 column out of reach.
  // Each box that overflows is a named stop of its own (arrow keys scroll it); one that fits is not.
  // the heading a table or its box sits under (its own section's, else the nearest one above)
  function headingOf(el) {
    for (var node = el; node && node !== document.body; node = node.parentElement) {
      for (var prev = node.previousElementSibling; prev; prev = prev.previousElementSibling) {
        if (/^H[1-4]$/.test(prev.tagName)) return prev;
      }
    }
    return null;
  }

  function headingBefore(el) {
    var heading = headingOf(el);
    return heading ? heading.textContent.replace(/\s+/g, " ").trim() : "Table";
  }

  // every table is named by its heading: a screen reader's list of tables read "table, table, table"
  function setupTableNames() {
    Array.prototype.forEach.call(document.querySelectorAll("table"), function (table, n) {
      if (table.hasAttribute("aria-label") || table.hasAttribute("aria-labelledby") || table.querySelector("caption")) return;
      var heading = headingOf(table);
      if (!heading) return;
      if (!heading.id) heading.id = "table-heading-" + n;
      table.setAttribute("aria-labelledby", heading.id);
    });
  }

  function setupScrollRegions() {
    var boxes = Array.prototype.slice.call(document.querySelectorAll(".scroll"));
    function mark() {
      boxes.forEach(function (box) {
        var wide = box.scrollWidth > box.clientWidth + 1;
        if (wide && !box.hasAttribute("tabindex")) {
          box.setAttribute("tabindex", "0"); box.setAttribute("role", "region");
          box.setAttribute("aria-label", headingBefore(box) + " (scrolls sideways)"); box.dataset.region = "1";
        } else if (!wide && box.dataset.region) {
          box.removeAttribute("tabindex"); box.removeAttribute("role"); box.removeAttribute("aria-label"); delete box.dataset.region;
        }
      });
    }
    mark();
    window.addEventListener("resize", mark);
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupTagging(); setupUpload(); setupJob(); setupIssuesPoll(); setupSelectAll(); setupTry();
    setupStickyRoom(); setupScrollRegions(); setupTableNames(); setupAnnouncements();
  });
})();
