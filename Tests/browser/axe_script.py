"""Which axe.min.js the browser tests inject.

axe-selenium-python 2.1.6 (the last release for Python 3.11) bundles axe-core 3.1.1 from 2018. The wheel of
axe-playwright-python (installed by kiosk/test.sh with --no-deps, so playwright itself is not pulled in)
carries a current axe-core as axe_playwright_python/axe.min.js. Its package is located with importlib
without importing it (importing would need playwright)."""
import importlib.util
import os


def newest_axe_script():
    """The path of axe-playwright-python's axe.min.js, or None when that package is not installed."""
    try:
        spec = importlib.util.find_spec("axe_playwright_python")
    except (ImportError, ValueError):
        return None
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = os.path.join(folder, "axe.min.js")
        if os.path.isfile(path):
            return path
    return None
