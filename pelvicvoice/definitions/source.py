"""Read YAML documents safely, remembering where every value came from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml

from pelvicvoice.definitions.characters import unwritable_text
from pelvicvoice.errors import DefinitionError, Location, Problem

T = TypeVar("T")

# Limits far beyond any real definition (the library's largest file is 30 KB, 9 levels deep,
# a few thousand values), so that a hostile file is refused in one line, not a traceback:
# a deeper document would exhaust the recursion of the YAML composer.
MAX_FILE_BYTES = 2_000_000
MAX_DEPTH = 50  # lists and mappings inside each other
MAX_NODES = 200_000  # keys and values, counting each use of an alias: an alias bomb expands to more

_PLAIN_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"

# PyYAML's libyaml binding, where the wheel has it.
_FastLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

DocPath = tuple  # a path into a document: keys (str) and indexes (int)
# Markers in a DocPath for places that have no key of their own.
DUPLICATE = "<duplicate>"
UNREADABLE_KEY = "<key>"


def format_path(path: DocPath) -> str:
    """Render a document path like `sections[2].steps[0].hold`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text or "(document)"


@dataclass
class Document:
    """Plain data from a YAML file plus the location of every value and key."""

    name: str
    data: Any
    locations: dict[DocPath, Location] = field(default_factory=dict)

    def where(self, path: DocPath) -> Location:
        """Return the location of the value at path, or of its nearest parent."""
        path = tuple(path)
        while path not in self.locations and path:
            path = path[:-1]
        return self.locations.get(path, Location(self.name, 1, 1))


class ProblemList:
    """Collect problems in one document, each tied to a path, for one report."""

    def __init__(self, document: Document):
        self.document = document
        self.problems: list[Problem] = []

    def add(self, path: DocPath, message: str) -> None:
        """Record a problem at the value found at path, naming the path in the message."""
        named = tuple(part for part in path if part not in (DUPLICATE, UNREADABLE_KEY))
        prefix = f"{format_path(named)}: " if named else ""
        self.problems.append(Problem(self.document.where(path), prefix + message))

    def raise_if_any(self) -> None:
        """Raise every recorded problem as one DefinitionError, sorted by place."""
        if self.problems:
            ordered = sorted(set(self.problems), key=lambda p: (p.location, p.message))
            raise DefinitionError(ordered)


def read_text(path: Path, display_name: str) -> str:
    """Read a UTF-8 text file, naming the line of the first undecodable byte."""
    try:
        # Read no further than the limit: a device or a pipe (/dev/zero) has no size to check first.
        with path.open("rb") as file:
            raw = file.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise DefinitionError.at(Location(display_name), "file not found; check the path") from None
    except OSError as error:
        raise DefinitionError.at(Location(display_name), f"cannot read file: {error.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        message = f"file is larger than the {MAX_FILE_BYTES:,} bytes a definition may have"
        raise DefinitionError.at(Location(display_name), message)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        raise DefinitionError.at(
            Location(display_name, line, column),
            "file is not valid UTF-8; save it with UTF-8 encoding",
        ) from None


def load_document(path: Path, display_name: str | None = None) -> Document:
    """Load one YAML file into plain data without constructing any object."""
    name = display_name or str(path)
    return parse_document(read_text(path, name), name)


def parse_document(text: str, name: str) -> Document:
    """Parse YAML text into a Document; syntax errors and unsafe tags are problems."""
    try:
        loader = _FastLoader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except (yaml.YAMLError, ValueError):
        # libyaml reads a valid document many times faster; the pure-Python parser names the
        # exact place and cause of a problem, so it reads again what libyaml rejects.
        loader, node = _compose_reporting(text, name)
    except RecursionError:
        raise _too_deep(text, name) from None
    document = Document(name, None)
    if node is None:
        document.data = None
        return document
    problems = ProblemList(document)
    converter = _Converter(loader, document, problems)
    document.data = converter.convert(node, ())
    problems.raise_if_any()
    return document


def _compose_reporting(text: str, name: str) -> tuple[yaml.SafeLoader, yaml.Node | None]:
    """Compose with the pure-Python parser, turning its errors into located problems."""
    try:
        loader = yaml.SafeLoader(text)
    except yaml.reader.ReaderError as error:
        raise _unreadable_character(text, name, error) from None
    try:
        return loader, loader.get_single_node()
    except RecursionError:
        raise _too_deep(text, name) from None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = _mark_location(name, mark) if mark else Location(name)
        what = error.problem or error.context or "invalid YAML"
        raise DefinitionError.at(where, f"YAML syntax error: {what}; fix the indentation or quoting") from None
    except yaml.reader.ReaderError as error:
        raise _unreadable_character(text, name, error) from None
    except yaml.YAMLError as error:
        raise DefinitionError.at(Location(name, 1, 1), f"YAML error: {error}") from None
    finally:
        loader.dispose()


def _too_deep(text: str, name: str) -> DefinitionError:
    """Locate the first list or mapping nested deeper than MAX_DEPTH, reading events (which needs no recursion)."""
    # libyaml refuses a deep flow collection before it yields its first events: read those with Python's.
    for loader_class in (_FastLoader, yaml.SafeLoader):
        loader = loader_class(text)
        depth = 0
        try:
            while loader.check_event():
                event = loader.get_event()
                if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                    depth += 1
                    if depth > MAX_DEPTH:
                        return DefinitionError.at(_mark_location(name, event.start_mark), _TOO_DEEP)
                elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                    depth -= 1
        except yaml.YAMLError:
            continue
        finally:
            loader.dispose()
    return DefinitionError.at(Location(name), _TOO_DEEP)


def _mark_location(name: str, mark: yaml.Mark) -> Location:
    return Location(name, mark.line + 1, mark.column + 1)


_TOO_DEEP = f"lists and mappings nested more than {MAX_DEPTH} levels deep; no definition needs that many"


def _unreadable_character(text: str, name: str, error: yaml.reader.ReaderError) -> DefinitionError:
    line = text.count("\n", 0, error.position) + 1
    column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
    return DefinitionError.at(
        Location(name, line, column),
        f"character U+{error.character:04X} cannot appear in YAML; remove it"
        if isinstance(error.character, int)
        else f"unreadable character {error.character!r}; remove it",
    )


class _Converter:
    """Turn composed YAML nodes into dicts, lists and scalars, recording locations."""

    def __init__(self, loader: yaml.constructor.SafeConstructor, document: Document, problems: ProblemList):
        self.loader = loader
        self.document = document
        self.problems = problems
        self.nodes_seen = 0
        self.too_deep = False

    def _location(self, node: yaml.Node) -> Location:
        return _mark_location(self.document.name, node.start_mark)

    def convert(self, node: yaml.Node, path: DocPath) -> Any:
        self.nodes_seen += 1
        if self.nodes_seen > MAX_NODES:
            if self.nodes_seen == MAX_NODES + 1:
                message = f"document has more than {MAX_NODES:,} keys and values (an alias counts each time it is used)"
                self.problems.add(path, f"{message}; no definition needs that many")
            return None
        self.document.locations.setdefault(path, self._location(node))
        if len(path) >= MAX_DEPTH and isinstance(node, (yaml.MappingNode, yaml.SequenceNode)):
            if not self.too_deep:
                self.too_deep = True
                # Said at its line alone: its path would be as long as the nesting.
                self.problems.problems.append(Problem(self._location(node), _TOO_DEEP))
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ_TAG:
                self.problems.add(path, f"YAML tag {node.tag!r} is not allowed; remove it")
            return [self.convert(item, path + (index,)) for index, item in enumerate(node.value)]
        if node.tag not in _PLAIN_TAGS:
            self.problems.add(path, f"YAML tag {node.tag!r} is not allowed; remove it")
            return None
        try:
            value = self.loader.construct_object(node)
        except yaml.YAMLError as error:
            self.problems.add(path, f"bad value: {error}")
            return None
        if isinstance(value, str) and (problem := unwritable_text(value)):
            self.problems.add(path, problem)
            return None
        return value

    def _mapping(self, node: yaml.MappingNode, path: DocPath) -> dict:
        if node.tag != _MAP_TAG:
            self.problems.add(path, f"YAML tag {node.tag!r} is not allowed; remove it")
        result: dict = {}
        for key_node, value_node in node.value:
            self.nodes_seen += 1  # a key counts as a value: a mapping of many keys is as wide
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.document.locations.setdefault(path + ("<<",), self._location(key_node))
                self.problems.add(path + ("<<",), "YAML merge keys (<<) are not supported; write the keys out")
                continue
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag not in _PLAIN_TAGS:
                self.document.locations.setdefault(path + (UNREADABLE_KEY,), self._location(key_node))
                self.problems.add(path + (UNREADABLE_KEY,), "keys must be plain text")
                continue
            key = self.loader.construct_object(key_node)
            # A key of null, true or 1.5 is named as it is written, not as Python prints it.
            key = key if isinstance(key, (str, int)) and not isinstance(key, bool) else key_node.value
            key_path = path + (key,)
            if key in result:
                self.document.locations[key_path + (DUPLICATE,)] = self._location(key_node)
                self.problems.add(key_path + (DUPLICATE,), f"duplicate key {key!r}; keep only one")
                continue
            self.document.locations[key_path] = self._location(key_node)
            result[key] = self.convert(value_node, key_path)
        return result


def load_language_files(folder: Path, display_prefix: str, parse: Callable[[Document], T]) -> dict[str, T]:
    """Load every `<language>.yaml` in folder with parse; each must name its own language."""
    loaded: dict[str, T] = {}
    for path in sorted(folder.glob("*.yaml")):
        item = parse(load_document(path, f"{display_prefix}/{path.name}"))
        if item.language != path.stem:
            raise DefinitionError.at(item.location, f"file {path.name} says language {item.language!r}; rename one")
        loaded[item.language] = item
    return loaded
