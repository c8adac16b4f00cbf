// The lz4 component: liblz4's block format behind `nanoproc:lz4/block`.
//
// Written in C against the bindings `cargo xtask build` generates with
// wit-bindgen-c (bindings/lz4.h). Ownership follows those bindings: each
// exported function owns its argument lists and frees them; a list it
// returns is freed by the generated post-return function once the caller
// has copied it, which frees only non-empty lists, so an empty result is
// returned without a buffer.
//
// Bad input is an `err`, never a trap: LZ4_decompress_safe reads only inside
// the block and writes only inside the capacity it is given. Sizes are capped
// at MAX_SIZE both ways, so that whatever `compress` accepts `decompress`
// gives back, and a block cannot make this component allocate more than
// MAX_SIZE for its output.

#include <limits.h>
#include <stdlib.h>

#include "bindings/lz4.h"
#include "lz4.h"

// 64 MiB, the limit the WIT interface documents.
#define MAX_SIZE (64u * 1024u * 1024u)

typedef exports_nanoproc_lz4_block_error_t block_error_t;

static bool fail(block_error_t *err, uint8_t tag, uint32_t value) {
    err->tag = tag;
    if (tag == EXPORTS_NANOPROC_LZ4_BLOCK_ERROR_WRONG_SIZE) {
        err->val.wrong_size = value;
    } else if (tag == EXPORTS_NANOPROC_LZ4_BLOCK_ERROR_TOO_LARGE) {
        err->val.too_large = value;
    }
    return false;
}

// A buffer of `len` bytes; running out of memory is a trap, as in the
// generated `cabi_realloc`.
static uint8_t *allocate(size_t len) {
    uint8_t *ptr = malloc(len);
    if (ptr == NULL) {
        abort();
    }
    return ptr;
}

bool exports_nanoproc_lz4_block_compress(lz4_list_u8_t *data, lz4_list_u8_t *ret, block_error_t *err) {
    if (data->len > MAX_SIZE) {
        lz4_list_u8_free(data);
        return fail(err, EXPORTS_NANOPROC_LZ4_BLOCK_ERROR_TOO_LARGE, MAX_SIZE);
    }
    // Below LZ4_MAX_INPUT_SIZE, so the bound is positive and compressing
    // into that much room cannot fail.
    int bound = LZ4_compressBound((int) data->len);
    uint8_t *out = allocate((size_t) bound);
    int written = LZ4_compress_default((const char *) data->ptr, (char *) out, (int) data->len, bound);
    lz4_list_u8_free(data);
    if (written <= 0) {
        abort();
    }
    ret->ptr = out;
    ret->len = (size_t) written;
    return true;
}

bool exports_nanoproc_lz4_block_decompress(lz4_list_u8_t *block, uint32_t size, lz4_list_u8_t *ret,
                                           block_error_t *err) {
    if (size > MAX_SIZE) {
        lz4_list_u8_free(block);
        return fail(err, EXPORTS_NANOPROC_LZ4_BLOCK_ERROR_TOO_LARGE, MAX_SIZE);
    }
    if (block->len > (size_t) INT_MAX) {
        // Far longer than any block of MAX_SIZE bytes of data.
        lz4_list_u8_free(block);
        return fail(err, EXPORTS_NANOPROC_LZ4_BLOCK_ERROR_CORRUPT, 0);
    }
    uint8_t none;
    uint8_t *out = size > 0 ? allocate(size) : &none;
    int read = LZ4_decompress_safe((const char *) block->ptr, (char *) out, (int) block->len, (int) size);
    lz4_list_u8_free(block);
    if (read < 0 || (uint32_t) read != size) {
        if (size > 0) {
            free(out);
        }
        return read < 0 ? fail(err, EXPORTS_NANOPROC_LZ4_BLOCK_ERROR_CORRUPT, 0)
                        : fail(err, EXPORTS_NANOPROC_LZ4_BLOCK_ERROR_WRONG_SIZE, (uint32_t) read);
    }
    ret->ptr = size > 0 ? out : NULL;
    ret->len = size;
    return true;
}
