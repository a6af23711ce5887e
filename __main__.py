"""Standalone entry: ``python . --output-dir DIR`` serves Holaf Utilities without ComfyUI.

Run from the repository (the custom-node folder). ``python . hash-password``
prints a password hash for ``config.ini``. The package is loaded under the name
``holaf_utilities`` so its relative imports work exactly as inside ComfyUI.
"""
import argparse
import getpass
import importlib
import importlib.util
import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
PACKAGE = "holaf_utilities"


def load_package():
    if PACKAGE not in sys.modules:
        spec = importlib.util.spec_from_file_location(PACKAGE, ROOT / "__init__.py", submodule_search_locations=[str(ROOT)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[PACKAGE] = module
        spec.loader.exec_module(module)
    return importlib.import_module(f"{PACKAGE}.holaf_app")


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="python .",
        description="Holaf Utilities standalone server: the Image Viewer and tools on an output folder, without ComfyUI.",
        epilog="'python . hash-password' prints a password hash to paste into config.ini ([Security] password_hash).",
    )
    parser.add_argument("--output-dir", required=True, type=Path, help="folder of images/videos to serve (ComfyUI's output folder)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; others need a password)")
    parser.add_argument("--port", type=int, default=8189, help="port (default 8189)")
    parser.add_argument("--data-dir", type=Path, help="where config.ini, the database and thumbnails live (default: per-user data dir)")
    parser.add_argument("--input-dir", type=Path, help="ComfyUI input folder (for 'use as input image')")
    parser.add_argument("--models-dir", type=Path, help="ComfyUI models folder (Model Manager)")
    parser.add_argument("--custom-nodes-dir", type=Path, help="ComfyUI custom_nodes folder (Nodes Manager)")
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    return parser.parse_args(argv)


def hash_password_command(app_module) -> int:
    security = importlib.import_module(f"{PACKAGE}.holaf_security")
    if sys.stdin.isatty():
        first = getpass.getpass("New password: ")
        second = getpass.getpass("Repeat it: ")
        if first != second:
            print("The two passwords differ.", file=sys.stderr)
            return 1
    else:
        first = sys.stdin.readline().rstrip("\r\n")
    problem = security.password_problem(first)
    if problem:
        print(f"Refused: {problem}.", file=sys.stderr)
        return 1
    print("Put this line under [Security] in config.ini, then restart:")
    print(f"password_hash = {security.hash_password(first)}")
    return 0


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    app_module = load_package()
    if argv[:1] == ["hash-password"]:
        return hash_password_command(app_module)
    args = parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from aiohttp import web

    context_module = importlib.import_module(f"{PACKAGE}.holaf_context")
    security = importlib.import_module(f"{PACKAGE}.holaf_security")
    output_dir = args.output_dir.expanduser().resolve()
    if not output_dir.is_dir():
        print(f"--output-dir {output_dir} is not a folder.", file=sys.stderr)
        return 2
    models_dirs = {}
    if args.models_dir:
        models_root = args.models_dir.expanduser().resolve()
        models_dirs = {p.name: [p] for p in sorted(models_root.iterdir()) if p.is_dir()} if models_root.is_dir() else {}
    paths = context_module.HostPaths(
        output_dir=output_dir,
        data_dir=(args.data_dir or app_module.default_standalone_data_dir()).expanduser().resolve(),
        input_dir=args.input_dir.expanduser().resolve() if args.input_dir else None,
        custom_nodes_dir=args.custom_nodes_dir.expanduser().resolve() if args.custom_nodes_dir else None,
        models_dirs=models_dirs,
        comfy_root=Path.cwd(),
    )
    app = app_module.create_standalone_app(paths)
    ctx = app[app_module.CTX_KEY]
    if not security.is_loopback(args.host) and not ctx.security.password_configured:
        print(
            f"Refusing to listen on {args.host}: set a password first (run 'python . hash-password' and add it to "
            f"{ctx.config.path}), or use --host 127.0.0.1.",
            file=sys.stderr,
        )
        return 2
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"Holaf Utilities {ctx.version} (standalone) on {output_dir}")
    print(f"Data folder: {paths.data_dir}")
    print(f"Open http://{shown_host}:{args.port}/", flush=True)
    web.run_app(app, host=args.host, port=args.port, print=None, access_log=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
