/* renderer - virglrenderer over vmbuf memory (see renderer.h). */
#include "renderer.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <virgl/virglrenderer.h>

#include "virgl_cmd.h"

#define CTX_ID 1

/* Object handles in the context: one of each, the same every frame. */
enum { H_BLEND = 1, H_DSA, H_RAST, H_VS, H_FS, H_VE, H_SAMPLER, H_SURFACE, H_VIEW };

/* Position in clip space and texture coordinate, four floats each. */
struct vertex {
	float pos[4], tex[4];
};

static const char vs_text[] = "VERT\n"
			      "DCL IN[0]\n"
			      "DCL IN[1]\n"
			      "DCL OUT[0], POSITION\n"
			      "DCL OUT[1], GENERIC[0]\n"
			      "  0: MOV OUT[0], IN[0]\n"
			      "  1: MOV OUT[1], IN[1]\n"
			      "  2: END\n";

static const char fs_text[] = "FRAG\n"
			      "DCL IN[0], GENERIC[0], PERSPECTIVE\n"
			      "DCL OUT[0], COLOR\n"
			      "DCL SAMP[0]\n"
			      "DCL SVIEW[0], 2D, FLOAT\n"
			      "  0: TEX OUT[0], IN[0], SAMP[0], 2D\n"
			      "  1: END\n";

/*
 * virglrenderer.h only declares struct virgl_box; its layout (virglrenderer's
 * src/virgl_hw.h) is six 32-bit fields, origin then extent.
 */
struct box {
	uint32_t x, y, z, w, h, d;
};

struct texture {
	uint32_t res, width, height, stride, format;
	struct iovec iov;
};

struct renderer {
	int cookie; /* virglrenderer wants a non-NULL one */
	struct virgl_cmd cmd;
	struct texture tex[RENDERER_TEXTURES_MAX];
	unsigned int ntex;
	uint32_t vbuf;		/* the quad's vertex buffer resource */
	bool pipeline;		/* shaders and state objects created */
	int pair_dst, pair_src; /* what H_SURFACE and H_VIEW are views of */
};

static void on_fence(void *cookie, uint32_t fence)
{
	(void)cookie;
	(void)fence;
}

/* No render node: virglrenderer's EGL then runs surfaceless (llvmpipe here). */
static int no_drm_fd(void *cookie)
{
	(void)cookie;
	return -1;
}

static struct virgl_renderer_callbacks callbacks = {
	.version = 2,
	.write_fence = on_fence,
	.get_drm_fd = no_drm_fd,
};

struct renderer *renderer_new(bool gles, const char **why)
{
	int flags = VIRGL_RENDERER_USE_EGL | VIRGL_RENDERER_USE_SURFACELESS;
	static const char name[] = "vmbuf-render";
	struct renderer *r = calloc(1, sizeof(*r));

	if (!r) {
		*why = "out of memory";
		return NULL;
	}
	if (gles)
		flags |= VIRGL_RENDERER_USE_GLES;
	virgl_cmd_init(&r->cmd);
	if (virgl_renderer_init(&r->cookie, flags, &callbacks) != 0) {
		*why = "virgl_renderer_init failed in surfaceless EGL mode (no EGL or GL driver?)";
		free(r);
		return NULL;
	}
	if (virgl_renderer_context_create(CTX_ID, sizeof(name) - 1, name) != 0) {
		*why = "virgl_renderer_context_create failed";
		virgl_renderer_cleanup(&r->cookie);
		free(r);
		return NULL;
	}
	return r;
}

void renderer_free(struct renderer *r)
{
	if (!r)
		return;
	for (unsigned int i = 0; i < r->ntex; i++) {
		virgl_renderer_ctx_detach_resource(CTX_ID, (int)r->tex[i].res);
		virgl_renderer_resource_unref(r->tex[i].res);
	}
	if (r->vbuf) {
		virgl_renderer_ctx_detach_resource(CTX_ID, (int)r->vbuf);
		virgl_renderer_resource_unref(r->vbuf);
	}
	virgl_renderer_context_destroy(CTX_ID);
	virgl_renderer_cleanup(&r->cookie);
	virgl_cmd_free(&r->cmd);
	free(r);
}

/* Resource ids: textures 1..RENDERER_TEXTURES_MAX, the vertex buffer after them. */
static int resource(uint32_t id, uint32_t target, uint32_t format, uint32_t bind, uint32_t width,
		    uint32_t height, struct iovec *iov)
{
	struct virgl_renderer_resource_create_args a = {
		.handle = id,
		.target = target,
		.format = format,
		.bind = bind,
		.width = width,
		.height = height,
		.depth = 1,
		.array_size = 1,
	};

	if (virgl_renderer_resource_create(&a, iov, iov ? 1 : 0) != 0)
		return -EIO;
	virgl_renderer_ctx_attach_resource(CTX_ID, (int)id);
	return 0;
}

int renderer_texture(struct renderer *r, uint32_t width, uint32_t height, uint32_t stride,
		     void *mem, size_t len, unsigned int flags)
{
	struct texture *t;
	int err;

	if (!width || !height || width > 16384 || height > 16384 || stride < width * 4 ||
	    stride % 4 || (uint64_t)stride * height > len)
		return -EINVAL;
	if (r->ntex == RENDERER_TEXTURES_MAX)
		return -ENOSPC;
	t = &r->tex[r->ntex];
	*t = (struct texture){ .res = r->ntex + 1,
			       .width = width,
			       .height = height,
			       .stride = stride,
			       .iov = { mem, len } };
	t->format =
		flags & RENDERER_OPAQUE ? VIRGL_FORMAT_B8G8R8X8_UNORM : VIRGL_FORMAT_B8G8R8A8_UNORM;
	err = resource(t->res, VIRGL_TARGET_TEXTURE_2D, t->format,
		       flags & RENDERER_TARGET ? VIRGL_BIND_RENDER_TARGET : VIRGL_BIND_SAMPLER_VIEW,
		       width, height, &t->iov);
	if (err)
		return err;
	return (int)++r->ntex;
}

static struct texture *texture(struct renderer *r, int tex)
{
	return tex > 0 && (unsigned int)tex <= r->ntex ? &r->tex[tex - 1] : NULL;
}

static int transfer(struct renderer *r, int tex, bool to_renderer)
{
	struct texture *t = texture(r, tex);
	struct box b;

	if (!t)
		return -EINVAL;
	b = (struct box){ .w = t->width, .h = t->height, .d = 1 };
	int ret;

	if (to_renderer)
		ret = virgl_renderer_transfer_write_iov(t->res, 0, 0, t->stride, 0,
							(struct virgl_box *)&b, 0, &t->iov, 1);
	else
		ret = virgl_renderer_transfer_read_iov(t->res, 0, 0, t->stride, 0,
						       (struct virgl_box *)&b, 0, &t->iov, 1);
	return ret ? -EIO : 0;
}

int renderer_upload(struct renderer *r, int tex)
{
	return transfer(r, tex, true);
}

int renderer_readback(struct renderer *r, int tex)
{
	return transfer(r, tex, false);
}

static int submit(struct renderer *r)
{
	int err = virgl_cmd_done(&r->cmd);

	if (!err && virgl_renderer_submit_cmd(r->cmd.w, CTX_ID, (int)r->cmd.n) != 0)
		err = -EIO;
	virgl_cmd_reset(&r->cmd);
	return err;
}

/* The shaders and fixed state, once. */
static int pipeline(struct renderer *r)
{
	static const struct virgl_vertex_element ve[] = {
		{ offsetof(struct vertex, pos), VIRGL_FORMAT_R32G32B32A32_FLOAT },
		{ offsetof(struct vertex, tex), VIRGL_FORMAT_R32G32B32A32_FLOAT },
	};
	struct virgl_cmd *c = &r->cmd;
	int err;

	r->vbuf = RENDERER_TEXTURES_MAX + 1;
	err = resource(r->vbuf, VIRGL_TARGET_BUFFER, VIRGL_FORMAT_R8_UNORM,
		       VIRGL_BIND_VERTEX_BUFFER, 4 * sizeof(struct vertex), 1, NULL);
	if (err) {
		r->vbuf = 0;
		return err;
	}
	virgl_cmd_blend_opaque(c, H_BLEND);
	virgl_cmd_bind(c, VIRGL_OBJECT_BLEND, H_BLEND);
	virgl_cmd_dsa_off(c, H_DSA);
	virgl_cmd_bind(c, VIRGL_OBJECT_DSA, H_DSA);
	virgl_cmd_rasterizer_fill(c, H_RAST);
	virgl_cmd_bind(c, VIRGL_OBJECT_RASTERIZER, H_RAST);
	virgl_cmd_shader(c, H_VS, VIRGL_SHADER_VERTEX, vs_text);
	virgl_cmd_bind_shader(c, H_VS, VIRGL_SHADER_VERTEX);
	virgl_cmd_shader(c, H_FS, VIRGL_SHADER_FRAGMENT, fs_text);
	virgl_cmd_bind_shader(c, H_FS, VIRGL_SHADER_FRAGMENT);
	virgl_cmd_vertex_elements(c, H_VE, ve, 2);
	virgl_cmd_bind(c, VIRGL_OBJECT_VERTEX_ELEMENTS, H_VE);
	virgl_cmd_sampler_nearest(c, H_SAMPLER);
	err = submit(r);
	if (!err)
		r->pipeline = true;
	return err;
}

int renderer_compose(struct renderer *r, int dst, int src, const float rgba[4], uint32_t x,
		     uint32_t y)
{
	struct texture *d = texture(r, dst), *s = texture(r, src);
	struct virgl_cmd *c = &r->cmd;
	struct vertex v[4];
	int err;

	if (!d || !s || s->width > d->width || s->height > d->height || x > d->width - s->width ||
	    y > d->height - s->height)
		return -EINVAL;
	if (!r->pipeline && (err = pipeline(r)) != 0)
		return err;
	/*
	 * The quad's corners in clip space and in the texture. Transfers move
	 * memory row N to GL row N, and GL counts rows from the bottom of clip
	 * space: so clip-space y grows with the memory row, and memory comes
	 * back top row first with no flip anywhere.
	 */
	float x0 = 2.0f * (float)x / (float)d->width - 1.0f;
	float x1 = 2.0f * (float)(x + s->width) / (float)d->width - 1.0f;
	float y0 = 2.0f * (float)y / (float)d->height - 1.0f;
	float y1 = 2.0f * (float)(y + s->height) / (float)d->height - 1.0f;
	const float corner[4][4] = {
		{ x0, y0, 0, 0 },
		{ x0, y1, 0, 1 },
		{ x1, y0, 1, 0 },
		{ x1, y1, 1, 1 },
	};
	for (int i = 0; i < 4; i++)
		v[i] = (struct vertex){ { corner[i][0], corner[i][1], 0, 1 },
					{ corner[i][2], corner[i][3], 0, 0 } };

	if (r->pair_dst != dst || r->pair_src != src) {
		/* Views of this pair, in place of the last pair's. */
		if (r->pair_dst) {
			virgl_cmd_destroy(c, VIRGL_OBJECT_SURFACE, H_SURFACE);
			virgl_cmd_destroy(c, VIRGL_OBJECT_SAMPLER_VIEW, H_VIEW);
		}
		virgl_cmd_surface(c, H_SURFACE, d->res, d->format);
		virgl_cmd_sampler_view(c, H_VIEW, s->res, s->format);
		r->pair_dst = dst;
		r->pair_src = src;
	}
	virgl_cmd_framebuffer(c, H_SURFACE);
	virgl_cmd_viewport(c, d->width, d->height);
	virgl_cmd_clear(c, rgba);
	virgl_cmd_fragment_texture(c, H_VIEW, H_SAMPLER);
	virgl_cmd_buffer_write(c, r->vbuf, v, sizeof(v));
	virgl_cmd_vertex_buffer(c, r->vbuf, sizeof(struct vertex));
	virgl_cmd_draw_strip(c, 4);
	return submit(r);
}
