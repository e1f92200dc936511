"""Keyboard alone: sign in, create a multi-label project, tag with number keys, type-to-filter and Enter."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.studio.conftest import press, screenshot, sign_in, type_keys

PROJECT = "emotions-kb"


def _tab_to(page, element_id: str, limit: int = 40) -> None:
    for _ in range(limit):
        press(page, "Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} cannot be reached with Tab")


def _labels(server, location: str):
    from tagwise.core import tagging
    from tagwise.core.context import Context
    from tagwise.settings import Settings
    from tagwise.storage.document_records import DocumentFilter

    ctx = Context.open(Settings(data_dir=server.data_dir, api_key=server.key), migrate=False)
    try:
        items = tagging.list_documents(ctx, PROJECT, DocumentFilter(search=location)).items
        return items[0]["labels"]
    finally:
        ctx.close()


def test_keyboard_only_multi_label_tagging(page, server, tmp_path):
    page.goto("/studio")
    # the key field has the focus once the page has loaded; typing before that loses keystrokes
    expect(page.get_by_label("API key")).to_be_focused()
    type_keys(page, server.key)
    press(page, "Enter")
    expect(page.get_by_role("heading", name="Projects", exact=True)).to_be_visible()

    _tab_to(page, "name")
    type_keys(page, PROJECT)
    press(page, "Tab")            # kind: radio group
    press(page, "ArrowDown")      # -> multi-label
    press(page, "Enter")          # submits the form
    expect(page.get_by_role("heading", name=PROJECT)).to_be_visible()
    expect(page.locator("h1")).to_contain_text("multi-label")

    # classes on the schema page, by keyboard
    page.goto(f"/studio/p/{PROJECT}/schema")
    page.get_by_placeholder("Class name").focus()
    for name in ("joy", "anger", "surprise", "gratitude"):
        type_keys(page, name)
        press(page, "Enter")
        expect(page.locator(".flash.ok")).to_contain_text(f"Class {name} added")
        expect(page.get_by_placeholder("Class name")).to_be_focused()  # ready for the next (focus was at the top)
    screenshot(page, "schema")

    # two .txt uploads
    files = []
    for name, text in (("thanks.txt", "Thank you so much, what a wonderful surprise!"), ("rage.txt", "This is outrageous, I am furious.")):
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        files.append(str(path))
    page.goto(f"/studio/p/{PROJECT}/data")
    page.locator("#files").set_input_files(files)
    page.locator("#files").focus()
    press(page, "Tab")
    press(page, "Enter")
    expect(page.locator(".flash.ok")).to_contain_text("Added 2 document(s)")

    page.goto(f"/studio/p/{PROJECT}/tag")
    expect(page.locator("#doc-title")).to_contain_text(".txt")
    # the queue offers a new project's documents spread over it, not in file order: either may come first
    first = "thanks.txt" if "thanks.txt" in page.locator("#doc-title").inner_text() else "rage.txt"
    second = "rage.txt" if first == "thanks.txt" else "thanks.txt"
    said = page.locator("#announce")  # a tick by key was silent: a screen-reader user could not tell on from off
    press(page, "1")          # toggle joy
    expect(said).to_have_text("joy ticked (1 ticked: joy)")
    type_keys(page, "grat")        # type-to-filter, Enter toggles the first match
    expect(said).to_have_text("1 class matches; Enter toggles gratitude")
    press(page, "Enter")
    expect(page.locator("#class-filter")).to_have_value("")
    expect(said).to_have_text("gratitude ticked (2 ticked: joy, gratitude)")
    press(page, "3")          # surprise
    press(page, "3")          # ... and off again
    expect(said).to_have_text("surprise unticked (2 ticked: joy, gratitude)")
    press(page, "3")          # ... and on
    # a filter that matches nothing says so (the list was just empty)
    type_keys(page, "zzz")
    expect(page.locator("#filter-none")).to_be_visible()
    expect(said).to_have_text("No class matches.")
    press(page, "Escape")
    expect(page.locator("#filter-none")).to_be_hidden()
    # single-key shortcuts can be turned off (speech input: a misheard digit saved a tag), and on again
    page.locator("#shortcuts").uncheck()
    press(page, "2")
    expect(page.locator('input[data-key="2"]')).not_to_be_checked()
    expect(page.locator("#keys-help")).to_be_hidden()  # nothing advertises keys that do nothing
    expect(page.locator('input[data-key="2"]')).not_to_have_attribute("aria-keyshortcuts", "2")
    page.locator("#shortcuts").check()
    expect(page.locator('input[data-key="2"]')).to_have_attribute("aria-keyshortcuts", "2")
    page.evaluate("document.activeElement.blur()")  # Enter on the box itself is the box's
    screenshot(page, "keyboard-multi-label")
    press(page, "Enter")      # saves
    expect(page.locator("#doc-title")).to_contain_text(second)
    assert sorted(_labels(server, first)) == ["gratitude", "joy", "surprise"]

    press(page, "2")          # anger
    press(page, "Enter")
    expect(page.get_by_role("heading", name="Nothing left to tag")).to_be_visible()
    assert _labels(server, second) == ["anger"]
    press(page, "Backspace")  # undo the last one
    expect(page.locator("#doc-title")).to_contain_text(second)
    assert _labels(server, second) is None

    # the same keys with the list filtered by set: the filter's hidden input named "dataset" hid the
    # form's data-kind from the script, which then took Enter for "Accept suggestion" and dropped the picks
    page.goto(f"/studio/p/{PROJECT}/tag?dataset=none")
    expect(page.locator("#doc-title")).to_contain_text(second)
    press(page, "2")          # anger
    type_keys(page, "GＲÄＴ")        # case, accents and width do not matter to the filter ("ruck" found no "Rückerstattung")
    # the Enter that ends an input method's composition (Japanese, Chinese) is the input method's, not a pick
    page.locator("#class-filter").dispatch_event("keydown", {"key": "Enter", "isComposing": True, "bubbles": True})
    expect(page.locator("#class-filter")).to_have_value("GＲÄＴ")
    press(page, "Enter")      # toggles gratitude, does not submit
    expect(page.locator("#class-filter")).to_have_value("")
    press(page, "Enter")      # saves both
    expect(page.get_by_role("heading", name="Nothing left to tag")).to_be_visible()
    assert sorted(_labels(server, second)) == ["anger", "gratitude"]


def test_the_class_filter_folds_arabic_marks_and_hamza_as_the_data_search_does(page, server):
    # "الغاء" (typed without the hamza) and a fully pointed "إِلْغَاء" showed no class, where the Data page's search finds both
    from tagwise.core import tagging
    from tagwise.core.context import Context
    from tagwise.settings import Settings

    ctx = Context.open(Settings(data_dir=server.data_dir, api_key=server.key), migrate=False)
    try:
        tagging.create_project(ctx, "arabic-kb", "CustomSingleLabelClassification", "ar")
        tagging.add_documents(ctx, "arabic-kb", [{"location": "t1", "text": "أريد إلغاء اشتراكي", "labels": ["إلغاء الاشتراك"]},
                                                 {"location": "t2", "text": "غيرت عنواني", "labels": ["تغيير العنوان"]},
                                                 {"location": "t3", "text": "أين طلبي؟"}])
    finally:
        ctx.close()
    sign_in(page, server)
    page.goto("/studio/p/arabic-kb/tag")
    for typed in ("الغاء", "إِلْغَاء"):
        page.locator("#class-filter").fill(typed)
        expect(page.locator('li[data-name="إلغاء الاشتراك"]')).to_be_visible()
        expect(page.locator('li[data-name="تغيير العنوان"]')).to_be_hidden()
