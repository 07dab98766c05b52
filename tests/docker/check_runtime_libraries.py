#!/usr/bin/python3
"""The Dockerfile's runtime stage installs every shared library the exporter
binary needs.

Usage: check_runtime_libraries.py DOCKERFILE BINARY

For each DT_NEEDED entry of BINARY (readelf -d), the Debian package that
ships the library (ldd resolves the path, dpkg -S names the package) must be
in the runtime stage's `apt-get install` list, or come with the base image
(libc6, libgcc-s1). Libraries those need in turn come with apt's
dependencies. Without this check a new dependency links and passes every
test, and the image then fails to start.
"""
import os
import re
import subprocess
import sys

BASE_IMAGE = {"libc6", "libgcc-s1"}


def runtime_packages(dockerfile):
    text = open(dockerfile, encoding="utf-8").read()
    stages = re.split(r"^FROM ", text, flags=re.M)
    runtime = [s for s in stages if re.match(r"\S+ AS runtime\b", s)]
    if len(runtime) != 1:
        sys.exit(f"{dockerfile}: no single 'FROM ... AS runtime' stage")
    joined = runtime[0].replace("\\\n", " ")
    packages = set()
    for m in re.finditer(r"apt-get install ([^&\n]*)", joined):
        packages.update(w for w in m.group(1).split() if not w.startswith("-"))
    return packages


def needed_libraries(binary):
    out = subprocess.run(["readelf", "-d", binary], check=True,
                         capture_output=True, text=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def resolved_paths(binary):
    out = subprocess.run(["ldd", binary], check=True, capture_output=True,
                         text=True).stdout
    paths = {}
    for m in re.finditer(r"^\s*(\S+) => (\S+)", out, flags=re.M):
        paths[m.group(1)] = m.group(2)
    return paths


def package_of(path):
    # usrmerge: the file is listed under /usr/lib or /lib, whichever dpkg
    # recorded.
    candidates = {path, os.path.realpath(path)}
    for p in list(candidates):
        if p.startswith("/usr/lib/"):
            candidates.add(p[len("/usr"):])
        elif p.startswith("/lib/"):
            candidates.add("/usr" + p)
    for p in sorted(candidates):
        r = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.split(":")[0].strip()
    return None


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    dockerfile, binary = sys.argv[1], sys.argv[2]
    installed = runtime_packages(dockerfile)
    paths = resolved_paths(binary)
    missing = []
    for lib in needed_libraries(binary):
        path = paths.get(lib)
        if path is None:
            missing.append(f"{lib}: not found by ldd")
            continue
        package = package_of(path)
        if package is None:
            missing.append(f"{lib} ({path}): no Debian package ships it")
        elif package not in installed and package not in BASE_IMAGE:
            missing.append(f"{lib}: package {package} is not installed by "
                           f"the runtime stage of {dockerfile}")
    if missing:
        print("\n".join(missing))
        sys.exit(1)
    print(f"ok: {len(needed_libraries(binary))} libraries, "
          f"runtime installs {sorted(installed)}")


if __name__ == "__main__":
    main()
