// Working arrays kept from one code object to the next (the lifter's, the assembler's and the stack-depth
// computation's scratch buffers): moved out and back so that they stay uniquely referenced, and refilled in
// place so that their memory is allocated once per file.

/// Moves `array` out (leaving it empty), so that the result is uniquely referenced.
@inline(__always)
func taken<T>(_ array: inout [T]) -> [T] {
    var out: [T] = []
    swap(&out, &array)
    return out
}

/// Empties `array`, keeping its memory (and making no call when it is empty already).
@inline(__always)
func clear<T>(_ array: inout [T]) {
    if !array.isEmpty { array.removeAll(keepingCapacity: true) }
}

/// Makes `array` `count` copies of `value`, reusing its memory: the elements it keeps are overwritten in place
/// (a plain loop, where appending a repeated element goes through an iterator), and only growth appends.
@inline(__always)
func refill<T>(_ array: inout [T], _ value: T, count: Int) {
    if array.count > count { array.removeLast(array.count - count) }
    array.withUnsafeMutableBufferPointer { $0.update(repeating: value) }
    grow(&array, value, toAtLeast: count)
}

/// Makes the first `count` elements of `array` copies of `value`, growing it if needed and keeping (not cutting)
/// any beyond: for columns reused from one code object to the next that are read only below `count`.
@inline(__always)
func refillPrefix<T>(_ array: inout [T], _ value: T, count: Int) {
    grow(&array, value, toAtLeast: count)
    array.withUnsafeMutableBufferPointer { UnsafeMutableBufferPointer(rebasing: $0[..<count]).update(repeating: value) }
}

/// Makes `array` hold at least `count` elements, appending copies of `value`, and keeps every element it has:
/// for columns reused from one code object to the next whose slots are written before they are read.
@inline(__always)
func grow<T>(_ array: inout [T], _ value: T, toAtLeast count: Int) {
    if array.count < count { array.append(contentsOf: repeatElement(value, count: count - array.count)) }
}
