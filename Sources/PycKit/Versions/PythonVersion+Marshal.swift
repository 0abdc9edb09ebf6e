/// Which objects a version's CPython caches or interns, so that values built in Swift are written
/// the way that interpreter writes freshly made ones (`Objects/unicodeobject.c`,
/// `Objects/bytesobject.c`, `Objects/longobject.c` of each release; checked by MarshalValueTests).
extension PythonVersion {
    /// Whether `""` and one-character ASCII strings are interned singletons (3.x: the empty string
    /// always; 1-character ASCII strings in 3.6–3.10 and 3.13, only cached in 3.11/3.12).
    /// In 2.7 the empty and 1-character `str` are interned too (written `t`).
    var internsSingleCharacterASCII: Bool {
        let v = (major, minor)
        return major == 2 || v <= (3, 10) || v >= (3, 13)
    }

    /// Whether one-character Latin-1 strings (U+0080–U+00FF) are interned (3.13); before they are
    /// cached but not interned.
    var internsSingleCharacterLatin1: Bool { (major, minor) >= (3, 13) }

    /// Whether `frozenset()` is a shared singleton (3.6–3.9).
    var emptyFrozensetIsSingleton: Bool { major == 3 && (major, minor) <= (3, 9) }

    /// Whether the elements of a set get FLAG_REF even when nothing else holds them: the writer
    /// holds an extra reference while iterating in 3.6–3.8 and, with the sorting, from 3.11.
    var flagsSetElements: Bool { major == 3 && ((major, minor) <= (3, 8) || (major, minor) >= (3, 11)) }

    /// Whether marshal writes a set's elements sorted by their own marshalled bytes (3.11+, bpo-37596).
    var sortsSetElements: Bool { (major, minor) >= (3, 11) }
}
