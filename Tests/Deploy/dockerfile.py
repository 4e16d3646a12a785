"""deploy/Dockerfile as a list of instructions: continuation lines joined, comments and blank
lines dropped. Shared by check_dockerfile.py and run_image_layout.py."""


def instructions(path):
    """(instructions, dangling): each instruction as one line, and whether the file ended inside
    a continuation."""
    found, current = [], ""
    with open(path) as handle:
        for raw in handle:
            line = raw.rstrip("\n")
            if not current and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if line.endswith("\\"):
                current += line[:-1] + " "
                continue
            found.append((current + line).strip())
            current = ""
    return found, current != ""
