// CPython 2.7 stack effects, written by hand: 2.7 has no `dis.stack_effect`.
//
// Source: CPython 2.7's `Python/compile.c`,
// * `opcode_stack_effect(opcode, oparg)`: one effect per opcode, used for both ways out of it;
// * `stackdepth_walk()`: at a jump target the depth is the depth after the jump, except
//   `FOR_ITER` (target depth - 2: the exhausted iterator is popped, nothing pushed),
//   `SETUP_EXCEPT` / `SETUP_FINALLY` (target depth + 3: the handler starts with the exception triple;
//   this also counts toward the maximum), and `JUMP_IF_TRUE_OR_POP` / `JUMP_IF_FALSE_OR_POP`, whose
//   fall-through continues one lower (the value is popped when the jump is not taken).
//
// The `JUMP_IF_*_OR_POP` fall-through of -1 is what 2.7.18 does, although formats.md §6 lists it for 3.6 only and
// older 2.7 sources of compile.c lack it: with 0 both ways, 240 code objects of 2.7.18's own Lib/*.py come out
// larger than their `co_stacksize`; with -1 none do (OpcodeTableTests walks them the way stackdepth_walk does).
//
// These are the compiler's numbers, which is what reproducing `co_stacksize` needs, not always what the
// interpreter does at run time (`SETUP_WITH` pushes 1 on the fall-through, compile.c counts 4).
// Opcodes the switch lacks: `STOP_CODE` (never emitted; no row, so its effect is nil) and `NOP` /
// `EXTENDED_ARG` (added after the depth pass; 0 here, their run-time effect). `OpcodeTableTests` checks that
// every other 2.7 opcode has exactly one row.

extension OpcodeTable {
    /// CPython 2.7's stack effects by opcode name, one `name effect` row per opcode: `opcode_stack_effect()` and
    /// `stackdepth_walk()` in 2.7's `Python/compile.c`. An effect is a ``StackEffect`` text: one formula for both
    /// ways out of the opcode, or `fall-through/jump`. Rows are text, not a Swift literal, so that the table
    /// compiles as fast as the generated ones; ``OpcodeRowParser/stackEffects(_:context:)`` reads them.
    static let stackEffects2_7 = """
        # --- stack manipulation
        POP_TOP              -1                            # TOS removed
        ROT_TWO              0                             # swap
        ROT_THREE            0                             # rotate
        ROT_FOUR             0                             # rotate
        DUP_TOP              1                             # TOS duplicated
        DUP_TOPX             oparg                         # "return oparg": the top oparg items duplicated
        NOP                  0                             # not in the switch (peephole output): no stack change
        EXTENDED_ARG         0                             # not in the switch (assembler output): a prefix

        # --- unary
        UNARY_POSITIVE       0                             # TOS replaced
        UNARY_NEGATIVE       0                             # TOS replaced
        UNARY_NOT            0                             # TOS replaced
        UNARY_CONVERT        0                             # `x` backquotes: TOS replaced
        UNARY_INVERT         0                             # TOS replaced

        # --- binary and in-place: two operands, one result
        BINARY_POWER         -1
        BINARY_MULTIPLY      -1
        BINARY_DIVIDE        -1
        BINARY_MODULO        -1
        BINARY_ADD           -1
        BINARY_SUBTRACT      -1
        BINARY_SUBSCR        -1
        BINARY_FLOOR_DIVIDE  -1
        BINARY_TRUE_DIVIDE   -1
        BINARY_LSHIFT        -1
        BINARY_RSHIFT        -1
        BINARY_AND           -1
        BINARY_XOR           -1
        BINARY_OR            -1
        INPLACE_FLOOR_DIVIDE -1
        INPLACE_TRUE_DIVIDE  -1
        INPLACE_ADD          -1
        INPLACE_SUBTRACT     -1
        INPLACE_MULTIPLY     -1
        INPLACE_DIVIDE       -1
        INPLACE_MODULO       -1
        INPLACE_POWER        -1
        INPLACE_LSHIFT       -1
        INPLACE_RSHIFT       -1
        INPLACE_AND          -1
        INPLACE_XOR          -1
        INPLACE_OR           -1

        # --- slices (SLICE+n: bit 0 = start on the stack, bit 1 = stop on the stack)
        SLICE+0              0                             # obj -> obj[:]
        SLICE+1              -1                            # obj start -> obj[start:]
        SLICE+2              -1                            # obj stop -> obj[:stop]
        SLICE+3              -2                            # obj start stop -> obj[start:stop]
        STORE_SLICE+0        -2                            # value obj
        STORE_SLICE+1        -3                            # value obj start
        STORE_SLICE+2        -3                            # value obj stop
        STORE_SLICE+3        -4                            # value obj start stop
        DELETE_SLICE+0       -1                            # obj
        DELETE_SLICE+1       -2                            # obj start
        DELETE_SLICE+2       -2                            # obj stop
        DELETE_SLICE+3       -3                            # obj start stop

        # --- subscripts, attributes, names
        STORE_SUBSCR         -3                            # value obj key
        DELETE_SUBSCR        -2                            # obj key
        STORE_MAP            -2                            # map value key -> map
        STORE_NAME           -1
        DELETE_NAME          0
        STORE_ATTR           -2                            # value obj
        DELETE_ATTR          -1                            # obj
        STORE_GLOBAL         -1
        DELETE_GLOBAL        0
        LOAD_CONST           1
        LOAD_NAME            1
        LOAD_ATTR            0                             # obj -> obj.name
        LOAD_GLOBAL          1
        LOAD_FAST            1
        STORE_FAST           -1
        DELETE_FAST          0
        LOAD_CLOSURE         1
        LOAD_DEREF           1
        STORE_DEREF          -1
        LOAD_LOCALS          1
        IMPORT_NAME          -1                            # level fromlist -> module
        IMPORT_FROM          1                             # module -> module attr
        IMPORT_STAR          -1                            # module

        # --- building
        BUILD_TUPLE          1-oparg                       # "1-oparg"
        BUILD_LIST           1-oparg                       # "1-oparg"
        BUILD_SET            1-oparg                       # "1-oparg"
        BUILD_MAP            1                             # the oparg is only a size hint
        BUILD_CLASS          -2                            # name bases dict -> class
        BUILD_SLICE          oparg==3?-2:-1                # "if (oparg == 3) return -2; else return -1;"
        UNPACK_SEQUENCE      -1+oparg                      # "oparg-1"
        LIST_APPEND          -1                            # comprehension: value appended to the list oparg deep
        SET_ADD              -1                            # comprehension: value added to the set oparg deep
        MAP_ADD              -2                            # comprehension: value key stored in the dict oparg deep
        COMPARE_OP           -1

        # --- statements
        PRINT_EXPR           -1
        PRINT_ITEM           -1
        PRINT_NEWLINE        0
        PRINT_ITEM_TO        -2                            # value file
        PRINT_NEWLINE_TO     -1                            # file
        EXEC_STMT            -3                            # code globals locals
        RETURN_VALUE         -1
        YIELD_VALUE          0                             # value out, sent value in
        GET_ITER             0                             # iterable -> iterator

        # --- calls: NARGS(o) = (o % 256) + 2 * (o / 256), positional arguments plus keyword pairs
        CALL_FUNCTION        -(oparg&0xff)-2*(oparg>>8)    # "-NARGS(oparg)"
        CALL_FUNCTION_VAR    -1-(oparg&0xff)-2*(oparg>>8)  # "-NARGS(oparg)-1": *args
        CALL_FUNCTION_KW     -1-(oparg&0xff)-2*(oparg>>8)  # "-NARGS(oparg)-1": **kwargs
        CALL_FUNCTION_VAR_KW -2-(oparg&0xff)-2*(oparg>>8)  # "-NARGS(oparg)-2"
        MAKE_FUNCTION        -oparg                        # "-oparg": oparg defaults, code -> function
        MAKE_CLOSURE         -1-oparg                      # "-oparg-1": also the cell tuple
        RAISE_VARARGS        -oparg                        # "-oparg"

        # --- jumps (stackdepth_walk follows the target with the depth after the instruction)
        JUMP_FORWARD         0
        JUMP_ABSOLUTE        0
        CONTINUE_LOOP        0
        JUMP_IF_TRUE_OR_POP  -1/0                          # "0; /* -1 if jump not taken */": the walk takes the -1
        JUMP_IF_FALSE_OR_POP -1/0                          # as JUMP_IF_TRUE_OR_POP
        POP_JUMP_IF_FALSE    -1
        POP_JUMP_IF_TRUE     -1
        FOR_ITER             1/-1                          # "1; /* or -1, at end of iterator */"; target -2

        # --- blocks
        SETUP_LOOP           0
        SETUP_EXCEPT         0/3                           # 0; target (handler): depth + 3
        SETUP_FINALLY        0/3                           # 0; target (finally body): depth + 3
        SETUP_WITH           4                             # 4 both ways: jrel, no special case in the walk
        WITH_CLEANUP         -1                            # "-1; /* XXX Sometimes more */"
        POP_BLOCK            0
        END_FINALLY          -3                            # "-3; /* or -1 or -2 if no exception occurred ... */"
        BREAK_LOOP           0

        """
}
