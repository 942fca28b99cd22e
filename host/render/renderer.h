/*
 * renderer - virglrenderer as the host-side renderer for vmbuf buffers.
 *
 * One process-wide virglrenderer instance in surfaceless EGL mode (no GPU, no
 * window system: Mesa's llvmpipe here, the host GPU where there is one) with
 * one virgl context. A texture is a virgl resource whose backing store is
 * caller memory (an iovec over a mapped vmbuf buffer, attached at creation):
 * renderer_upload() moves those bytes into the renderer, renderer_readback()
 * moves the rendered pixels back into them. Both copies are virgl's own
 * transfers, the same a virtio-gpu guest's TRANSFER_TO_HOST / FROM_HOST make.
 *
 * Textures are BGRA8888 in memory (DRM ARGB8888 / XRGB8888), rows top first.
 * Errors are negative errno values; renderer_new() says why in @why.
 */
#ifndef VMBUF_RENDERER_H
#define VMBUF_RENDERER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RENDERER_TEXTURES_MAX 8

struct renderer;

/* @gles: a GLES context (virglrenderer's --use-gles) instead of desktop GL. */
struct renderer *renderer_new(bool gles, const char **why);
void renderer_free(struct renderer *r);

#define RENDERER_TARGET (1u << 0) /* rendered to (else sampled from) */
#define RENDERER_OPAQUE (1u << 1) /* XRGB: the 4th byte is not alpha, reads as 1.0 */

/*
 * A @width x @height texture over @mem (@stride bytes a row, @len bytes in
 * all, at least stride * height), as @flags say. Returns its id (> 0),
 * -EINVAL for a size that does not fit, -ENOSPC past RENDERER_TEXTURES_MAX,
 * -EIO when virglrenderer refuses it.
 */
int renderer_texture(struct renderer *r, uint32_t width, uint32_t height, uint32_t stride,
		     void *mem, size_t len, unsigned int flags);
/* The texture's memory into the renderer (after the memory changed). */
int renderer_upload(struct renderer *r, int tex);
/*
 * Clear @dst to @rgba (0..1 per channel), then draw @src on it unscaled with
 * its top-left pixel at (@x, @y) and nearest filtering, so each pixel of @src
 * lands on exactly one pixel of @dst: a textured quad through a vertex and a
 * fragment shader. -EINVAL when @src does not fit in @dst at (@x, @y).
 */
int renderer_compose(struct renderer *r, int dst, int src, const float rgba[4], uint32_t x,
		     uint32_t y);
/* What the renderer holds of @tex back into its memory. */
int renderer_readback(struct renderer *r, int tex);

#endif
