"""The README's library example runs: every ```python block under a heading that mentions "library".

(docs/cli.md carries the same example and is checked the same way.)

The blocks of that section (and its subsections) run together, in order, as one script in an
empty temporary folder, so the example must bring its own data (or read the shared datasets
through an absolute path it computes itself).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
FENCE = re.compile(r"^(```|~~~)\s*(\S*)")


def library_blocks(markdown: str) -> list[str]:
    """The ```python blocks inside sections whose heading contains 'library' (any case)."""
    blocks: list[str] = []
    level_in: int | None = None  # level of the library heading we are under
    fence: str | None = None
    current: list[str] | None = None
    for line in markdown.splitlines():
        if fence is not None:
            if line.strip().startswith(fence):
                if current is not None:
                    blocks.append("\n".join(current) + "\n")
                fence, current = None, None
            elif current is not None:
                current.append(line)
            continue
        match = FENCE.match(line.strip())
        if match:
            fence = match.group(1)
            current = [] if level_in is not None and match.group(2).lower() in ("python", "py") else None
            continue
        heading = HEADING.match(line)
        if heading:
            level = len(heading.group(1))
            if level_in is not None and level <= level_in:
                level_in = None
            if level_in is None and "library" in heading.group(2).lower():
                level_in = level
    return blocks


def test_extraction_follows_headings():
    text = "\n".join([  # noqa: FLY002 - one README line per item reads better
        "# tagwise", "```python", "skip = 1", "```",
        "## Python library", "```python", "a = 1", "```", "### More", "```py", "b = a + 1", "```", "```bash", "echo no", "```",
        "## CLI", "```python", "skip = 2", "```",
    ])
    assert library_blocks(text) == ["a = 1\n", "b = a + 1\n"]


@pytest.mark.parametrize("document", ["README.md", "docs/cli.md"])
def test_library_example_runs(tmp_path, document):
    blocks = library_blocks((ROOT / document).read_text(encoding="utf-8"))
    assert blocks, f"{document} has no ```python block under a heading containing 'library' (docs/cli.md has the text)"
    script = tmp_path / "readme_example.py"
    script.write_text("\n".join(blocks), encoding="utf-8")
    env = dict(os.environ, HF_HUB_OFFLINE="1", TAGWISE_DATA_DIR=str(tmp_path / "data"))
    result = subprocess.run([sys.executable, str(script)], check=False, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"the {document} example failed:\n{result.stderr[-3000:]}"


def test_cli_md_quickstart_is_the_readmes():
    # docs/cli.md marks its quickstart as the README's; the two had drifted apart
    cli = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    block = cli.split("<!-- README: CLI quickstart (start) -->\n", 1)[1].split("```\n", 1)[0] + "```\n"
    assert block.startswith("```bash\nmake install\n")
    assert block in (ROOT / "README.md").read_text(encoding="utf-8")
