//! `nanoproc:hash/digest`, the SHA-2 digests of Zig's standard library
//! (`std.crypto.hash.sha2`), exported under the canonical ABI's names.

const std = @import("std");
const sha2 = std.crypto.hash.sha2;

const allocator = std.heap.wasm_allocator;

/// The interface, as the canonical ABI's export names start.
const iface = "nanoproc:hash/digest@0.1.0";

/// `enum algorithm`, in its order in the WIT.
const Algorithm = enum(u32) { sha224, sha256, sha384, sha512 };

/// A digest in progress, of one algorithm.
const State = union(Algorithm) {
    sha224: sha2.Sha224,
    sha256: sha2.Sha256,
    sha384: sha2.Sha384,
    sha512: sha2.Sha512,

    fn init(algorithm: Algorithm) State {
        return switch (algorithm) {
            .sha224 => .{ .sha224 = sha2.Sha224.init(.{}) },
            .sha256 => .{ .sha256 = sha2.Sha256.init(.{}) },
            .sha384 => .{ .sha384 = sha2.Sha384.init(.{}) },
            .sha512 => .{ .sha512 = sha2.Sha512.init(.{}) },
        };
    }

    fn update(self: *State, data: []const u8) void {
        switch (self.*) {
            inline else => |*d| d.update(data),
        }
    }

    /// The digest of what was fed, in freshly allocated memory.
    fn final(self: *State) []u8 {
        switch (self.*) {
            inline else => |*d| {
                const T = @TypeOf(d.*);
                const out = allocator.alloc(u8, T.digest_length) catch @trap();
                d.final(out[0..T.digest_length]);
                return out;
            },
        }
    }
};

/// Where a function returning a list puts its pointer and length: one
/// call runs at a time, so one area serves every call.
var ret_area: [2]usize = undefined;

fn returned(bytes: []u8) *[2]usize {
    ret_area = .{ @intFromPtr(bytes.ptr), bytes.len };
    return &ret_area;
}

fn freeReturned(area: *[2]usize) void {
    if (area[1] != 0) allocator.free(@as([*]u8, @ptrFromInt(area[0]))[0..area[1]]);
}

/// A list the host passed in, allocated by `cabi_realloc`, owned by the callee.
fn taken(ptr: [*]u8, len: usize) []u8 {
    return ptr[0..len];
}

fn freeTaken(data: []u8) void {
    if (data.len != 0) allocator.free(data);
}

fn digest(algorithm: u32, ptr: [*]u8, len: usize) []u8 {
    const data = taken(ptr, len);
    defer freeTaken(data);
    var state = State.init(@enumFromInt(algorithm));
    state.update(data);
    return state.final();
}

fn hash(algorithm: u32, ptr: [*]u8, len: usize) callconv(.c) *[2]usize {
    return returned(digest(algorithm, ptr, len));
}

fn hashHex(algorithm: u32, ptr: [*]u8, len: usize) callconv(.c) *[2]usize {
    const bytes = digest(algorithm, ptr, len);
    defer allocator.free(bytes);
    const hex = allocator.alloc(u8, bytes.len * 2) catch @trap();
    const digits = "0123456789abcdef";
    for (bytes, 0..) |b, i| {
        hex[2 * i] = digits[b >> 4];
        hex[2 * i + 1] = digits[b & 15];
    }
    return returned(hex);
}

fn postReturn(area: *[2]usize) callconv(.c) void {
    freeReturned(area);
}

extern "[export]nanoproc:hash/digest@0.1.0" fn @"[resource-new]hasher"(rep: u32) u32;

fn hasherNew(algorithm: u32) callconv(.c) u32 {
    const state = allocator.create(State) catch @trap();
    state.* = State.init(@enumFromInt(algorithm));
    return @"[resource-new]hasher"(@intFromPtr(state));
}

fn hasherUpdate(rep: *State, ptr: [*]u8, len: usize) callconv(.c) void {
    const data = taken(ptr, len);
    defer freeTaken(data);
    rep.update(data);
}

fn hasherFinish(rep: *State) callconv(.c) *[2]usize {
    const out = rep.final();
    rep.* = State.init(std.meta.activeTag(rep.*));
    return returned(out);
}

fn hasherDrop(rep: *State) callconv(.c) void {
    allocator.destroy(rep);
}

/// The canonical ABI's allocator: the host asks it for room for the lists
/// it passes in.
fn cabiRealloc(old: ?[*]u8, old_len: usize, alignment: usize, new_len: usize) callconv(.c) [*]u8 {
    const a = std.mem.Alignment.fromByteUnits(alignment);
    if (new_len == 0) {
        if (old) |p| if (old_len != 0) allocator.rawFree(p[0..old_len], a, @returnAddress());
        return @ptrFromInt(alignment);
    }
    const fresh = allocator.rawAlloc(new_len, a, @returnAddress()) orelse @trap();
    if (old) |p| if (old_len != 0) {
        @memcpy(fresh[0..@min(old_len, new_len)], p[0..@min(old_len, new_len)]);
        allocator.rawFree(p[0..old_len], a, @returnAddress());
    };
    return fresh;
}

comptime {
    @export(&hash, .{ .name = iface ++ "#hash" });
    @export(&postReturn, .{ .name = "cabi_post_" ++ iface ++ "#hash" });
    @export(&hashHex, .{ .name = iface ++ "#hash-hex" });
    @export(&postReturn, .{ .name = "cabi_post_" ++ iface ++ "#hash-hex" });
    @export(&hasherNew, .{ .name = iface ++ "#[constructor]hasher" });
    @export(&hasherUpdate, .{ .name = iface ++ "#[method]hasher.update" });
    @export(&hasherFinish, .{ .name = iface ++ "#[method]hasher.finish" });
    @export(&postReturn, .{ .name = "cabi_post_" ++ iface ++ "#[method]hasher.finish" });
    @export(&hasherDrop, .{ .name = iface ++ "#[dtor]hasher" });
    @export(&cabiRealloc, .{ .name = "cabi_realloc" });
}
