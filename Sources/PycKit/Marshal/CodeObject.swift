/// A code object with every field any supported version marshals; the version's
/// `PythonVersion.codeLayout` says which fields its files carry and in what order.
///
/// Integer fields are plain `Int32`s (marshal writes them without a type byte); every other field
/// is a full marshalled object and keeps its encoding. Fields a version lacks stay `.none`/0.
public struct CodeObject: Sendable, Equatable {
    public var argcount: Int32 = 0
    /// 3.8+.
    public var posonlyargcount: Int32 = 0
    /// 3.x.
    public var kwonlyargcount: Int32 = 0
    /// Up to 3.10 (3.11+ derives it from `localspluskinds`).
    public var nlocals: Int32 = 0
    public var stacksize: Int32 = 0
    public var flags: Int32 = 0
    public var firstlineno: Int32 = 0

    /// `co_code`: bytes.
    public var code: PyObject = .none
    /// `co_consts`: a tuple.
    public var consts: PyObject = .none
    /// `co_names`: a tuple of names.
    public var names: PyObject = .none
    /// Up to 3.10.
    public var varnames: PyObject = .none
    public var freevars: PyObject = .none
    public var cellvars: PyObject = .none
    /// 3.11+: every local, cell and free variable, with one kind byte each.
    public var localsplusnames: PyObject = .none
    public var localspluskinds: PyObject = .none
    public var filename: PyObject = .none
    public var name: PyObject = .none
    /// 3.11+.
    public var qualname: PyObject = .none
    /// `co_lnotab` up to 3.9, `co_linetable` from 3.10 (formats.md §4).
    public var linetable: PyObject = .none
    /// 3.11+.
    public var exceptiontable: PyObject = .none

    public init() {}

    /// A marshalled code-object field, named as in CPython (`co_` prefix dropped).
    public enum Field: String, Sendable, CaseIterable {
        case argcount, posonlyargcount, kwonlyargcount, nlocals, stacksize, flags, firstlineno
        case code, consts, names, varnames, freevars, cellvars, localsplusnames, localspluskinds
        case filename, name, qualname, linetable, exceptiontable

        /// Whether marshal writes this field as a bare i32 rather than an object.
        public var isInteger: Bool {
            switch self {
            case .argcount, .posonlyargcount, .kwonlyargcount, .nlocals, .stacksize, .flags, .firstlineno: return true
            default: return false
            }
        }
    }

    /// The value of an integer field.
    public subscript(integer field: Field) -> Int32 {
        get {
            switch field {
            case .argcount: return argcount
            case .posonlyargcount: return posonlyargcount
            case .kwonlyargcount: return kwonlyargcount
            case .nlocals: return nlocals
            case .stacksize: return stacksize
            case .flags: return flags
            case .firstlineno: return firstlineno
            default: return 0
            }
        }
        set {
            switch field {
            case .argcount: argcount = newValue
            case .posonlyargcount: posonlyargcount = newValue
            case .kwonlyargcount: kwonlyargcount = newValue
            case .nlocals: nlocals = newValue
            case .stacksize: stacksize = newValue
            case .flags: flags = newValue
            case .firstlineno: firstlineno = newValue
            default: break
            }
        }
    }

    /// The value of an object field.
    public subscript(object field: Field) -> PyObject {
        get {
            switch field {
            case .code: return code
            case .consts: return consts
            case .names: return names
            case .varnames: return varnames
            case .freevars: return freevars
            case .cellvars: return cellvars
            case .localsplusnames: return localsplusnames
            case .localspluskinds: return localspluskinds
            case .filename: return filename
            case .name: return name
            case .qualname: return qualname
            case .linetable: return linetable
            case .exceptiontable: return exceptiontable
            default: return .none
            }
        }
        set {
            switch field {
            case .code: code = newValue
            case .consts: consts = newValue
            case .names: names = newValue
            case .varnames: varnames = newValue
            case .freevars: freevars = newValue
            case .cellvars: cellvars = newValue
            case .localsplusnames: localsplusnames = newValue
            case .localspluskinds: localspluskinds = newValue
            case .filename: filename = newValue
            case .name: name = newValue
            case .qualname: qualname = newValue
            case .linetable: linetable = newValue
            case .exceptiontable: exceptiontable = newValue
            default: break
            }
        }
    }

    // MARK: - Convenience views

    /// `co_code` as bytes (empty when the field is not bytes).
    public var codeBytes: [UInt8] {
        if case .bytes(let b) = code.value { return b }
        return []
    }

    /// `co_consts` items.
    public var constants: [PyObject] { consts.value.items ?? [] }

    /// The code objects among the constants, in order.
    public var nestedCode: [CodeObject] { constants.compactMap(\.value.codeObject) }

    /// `co_name` as text.
    public var nameText: String { name.value.text ?? "" }

    /// Number of code objects in this tree, this one included.
    public var codeObjectCount: Int {
        var n = 1
        for c in constants { if case .code(let k) = c.value { n += k.codeObjectCount } }
        return n
    }
}
