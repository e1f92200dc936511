"""Opening the store (what every CLI command and a multi-process server's supervisor do)."""

from __future__ import annotations

import os
import subprocess
import sys


def test_opening_the_store_leaves_the_recipes_unloaded(tmp_path):
    """scikit-learn and scipy come with the first training or model load, not with the store: a
    `tagwise project list` took 3.0 s and 278 MB with them, and the supervisor of `tagwise serve
    --workers 2` held 279 MB for nothing (1.0 s and 89 MB, 83 MB without)."""
    code = ("import sys\n"
            "from tagwise.cli.common import load_settings\n"
            "from tagwise.core.context import Context\n"
            "Context.open(load_settings()).close()\n"
            "from tagwise.core import training\n"
            "training.describe_config_versions()\n"  # the Train page and the API's list: 2.4 s on a server's first visit
            "print(sorted({'sklearn', 'scipy', 'torch', 'onnxruntime'} & set(sys.modules)))\n"
            "import tagwise.ml\n"
            "print(tagwise.ml.DEFAULT_RECIPE, tagwise.ml.build_model('linear').__class__.__name__)\n")
    env = {**os.environ, "TAGWISE_DATA_DIR": str(tmp_path)}
    env.pop("TAGWISE_DATABASE_URL", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.splitlines() == ["[]", "auto LinearTextClassifier"]
