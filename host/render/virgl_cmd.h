/*
 * virgl_cmd - an encoder for the virgl command stream, the Gallium-shaped
 * protocol virglrenderer executes (virgl_renderer_submit_cmd). Only the
 * commands vmbuf-render uses are here; their layouts and numbers are those of
 * virglrenderer's src/virgl_protocol.h and src/virgl_hw.h (protocol facts,
 * written out here because the library installs no protocol header).
 *
 * A stream is a growing array of 32-bit words. Each command is one header word
 * (opcode, object type, length in words after the header) and its payload.
 * An allocation failure is remembered in @err and reported by virgl_cmd_done().
 */
#ifndef VMBUF_VIRGL_CMD_H
#define VMBUF_VIRGL_CMD_H

#include <stddef.h>
#include <stdint.h>

/* Formats (enum virgl_formats). */
#define VIRGL_FORMAT_B8G8R8A8_UNORM 1
#define VIRGL_FORMAT_B8G8R8X8_UNORM 2
#define VIRGL_FORMAT_R32G32B32A32_FLOAT 31
#define VIRGL_FORMAT_R8_UNORM 64

/* Bind flags and targets (Gallium's, as virgl fixes them). */
#define VIRGL_BIND_RENDER_TARGET (1u << 1)
#define VIRGL_BIND_SAMPLER_VIEW (1u << 3)
#define VIRGL_BIND_VERTEX_BUFFER (1u << 4)
#define VIRGL_TARGET_BUFFER 0
#define VIRGL_TARGET_TEXTURE_2D 2

#define VIRGL_SHADER_VERTEX 0
#define VIRGL_SHADER_FRAGMENT 1

struct virgl_cmd {
	uint32_t *w;
	size_t n, cap;
	int err; /* 0, or -ENOMEM once a word could not be added */
};

struct virgl_vertex_element {
	uint32_t offset, format; /* in the one vertex buffer */
};

void virgl_cmd_init(struct virgl_cmd *c);
void virgl_cmd_free(struct virgl_cmd *c);
/* Empty the stream for the next submission (keeps the memory). */
void virgl_cmd_reset(struct virgl_cmd *c);
/* 0, or the first error met while encoding. */
int virgl_cmd_done(const struct virgl_cmd *c);

/* Objects: @handle names the object in the context (nonzero, unique per type). */
void virgl_cmd_surface(struct virgl_cmd *c, uint32_t handle, uint32_t res, uint32_t format);
void virgl_cmd_blend_opaque(struct virgl_cmd *c, uint32_t handle); /* no blending, RGBA written */
void virgl_cmd_dsa_off(struct virgl_cmd *c, uint32_t handle); /* no depth, stencil, alpha test */
void virgl_cmd_rasterizer_fill(struct virgl_cmd *c, uint32_t handle); /* filled, no culling */
/* A shader from TGSI text (NUL-terminated); @type is VIRGL_SHADER_*. */
void virgl_cmd_shader(struct virgl_cmd *c, uint32_t handle, uint32_t type, const char *tgsi);
void virgl_cmd_vertex_elements(struct virgl_cmd *c, uint32_t handle,
			       const struct virgl_vertex_element *e, unsigned int n);
/* A 2D view of texture @res; nearest-filtering, edge-clamped sampler. */
void virgl_cmd_sampler_view(struct virgl_cmd *c, uint32_t handle, uint32_t res, uint32_t format);
void virgl_cmd_sampler_nearest(struct virgl_cmd *c, uint32_t handle);

void virgl_cmd_destroy(struct virgl_cmd *c, uint32_t object_type, uint32_t handle);

/* State. */
void virgl_cmd_bind(struct virgl_cmd *c, uint32_t object_type, uint32_t handle);
void virgl_cmd_bind_shader(struct virgl_cmd *c, uint32_t handle, uint32_t type);
void virgl_cmd_framebuffer(struct virgl_cmd *c, uint32_t surface);
void virgl_cmd_viewport(struct virgl_cmd *c, uint32_t width, uint32_t height);
void virgl_cmd_vertex_buffer(struct virgl_cmd *c, uint32_t res, uint32_t stride);
void virgl_cmd_fragment_texture(struct virgl_cmd *c, uint32_t view, uint32_t sampler);

/* Work. @rgba: 0..1 per channel. */
void virgl_cmd_clear(struct virgl_cmd *c, const float rgba[4]);
/* Write @len bytes (a multiple of 4) at the start of buffer resource @res. */
void virgl_cmd_buffer_write(struct virgl_cmd *c, uint32_t res, const void *data, uint32_t len);
void virgl_cmd_draw_strip(struct virgl_cmd *c, uint32_t count);

/* Object types for virgl_cmd_bind() and _destroy() (enum virgl_object_type). */
#define VIRGL_OBJECT_BLEND 1
#define VIRGL_OBJECT_RASTERIZER 2
#define VIRGL_OBJECT_DSA 3
#define VIRGL_OBJECT_VERTEX_ELEMENTS 5
#define VIRGL_OBJECT_SAMPLER_VIEW 6
#define VIRGL_OBJECT_SURFACE 8

#endif
