"""What the type system says about sharing fields between threads, read from type text."""

from __future__ import annotations

import re

UNSYNCHRONIZED = re.compile(
    r"\b(HashMap|HashSet|BTreeMap|BTreeSet|Vec|VecDeque|RefCell|Cell|UnsafeCell|Rc|NonNull)\b|\*\s*(?:mut|const)\b"
)
# Fields that make a struct !Send by themselves; collections and cells are Send when
# their contents are, so a Send impl only needs a reason for these.
NOT_SEND = re.compile(r"\b(Rc|NonNull)\b|\*\s*(?:mut|const)\b")
SYNCHRONIZED = re.compile(
    r"\b(Mutex|RwLock|Atomic\w*|OnceLock|LazyLock|OnceCell|Condvar|Barrier|ArcSwap\w*|DashMap|ThreadLocal)\b"
)


def unsynchronized_fields(fields: tuple[tuple[str, str], ...]) -> list[tuple[str, str]]:
    found = []
    for name, declared in fields:
        unsafe_part = UNSYNCHRONIZED.search(declared)
        guard = SYNCHRONIZED.search(declared)
        if unsafe_part and not (guard and guard.start() < unsafe_part.start()):
            found.append((name, declared))
    return found
