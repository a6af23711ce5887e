import importlib.util, sys
from pathlib import Path
ROOT = Path(__file__).resolve().parents[1]
if "holaf_utilities" not in sys.modules:
    spec = importlib.util.spec_from_file_location("holaf_utilities", ROOT / "__init__.py", submodule_search_locations=[str(ROOT)])
    mod = importlib.util.module_from_spec(spec); sys.modules["holaf_utilities"] = mod; spec.loader.exec_module(mod)
