/* virgl_cmd - the virgl command stream, word by word (see virgl_cmd.h). */
#include "virgl_cmd.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Opcodes (enum virgl_context_cmd). */
enum {
	CCMD_CREATE_OBJECT = 1,
	CCMD_BIND_OBJECT = 2,
	CCMD_DESTROY_OBJECT = 3,
	CCMD_SET_VIEWPORT_STATE = 4,
	CCMD_SET_FRAMEBUFFER_STATE = 5,
	CCMD_SET_VERTEX_BUFFERS = 6,
	CCMD_CLEAR = 7,
	CCMD_DRAW_VBO = 8,
	CCMD_RESOURCE_INLINE_WRITE = 9,
	CCMD_SET_SAMPLER_VIEWS = 10,
	CCMD_BIND_SAMPLER_STATES = 18,
	CCMD_BIND_SHADER = 31,
};

/* Object types that are only created here. */
enum {
	OBJECT_SHADER = 4,
	OBJECT_SAMPLER_STATE = 7,
};

#define PIPE_CLEAR_COLOR0 (1u << 2)
#define PIPE_PRIM_TRIANGLE_STRIP 5
#define PIPE_TEX_WRAP_CLAMP_TO_EDGE 2
#define PIPE_TEX_MIPFILTER_NONE 2
/* Swizzle identity: X, Y, Z, W in 3 bits each. */
#define SWIZZLE_IDENTITY (0u | 1u << 3 | 2u << 6 | 3u << 9)

static uint32_t f2u(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

static int reserve(struct virgl_cmd *c, size_t words)
{
	if (c->err)
		return c->err;
	if (c->n + words > c->cap) {
		size_t cap = c->cap ? c->cap : 256;
		uint32_t *w;

		while (cap < c->n + words)
			cap *= 2;
		w = realloc(c->w, cap * sizeof(*w));
		if (!w)
			return c->err = -ENOMEM;
		c->w = w;
		c->cap = cap;
	}
	return 0;
}

static void put(struct virgl_cmd *c, uint32_t word)
{
	if (reserve(c, 1) == 0)
		c->w[c->n++] = word;
}

/* A header: @len payload words follow. */
static void head(struct virgl_cmd *c, uint32_t op, uint32_t object, uint32_t len)
{
	put(c, op | object << 8 | len << 16);
}

void virgl_cmd_init(struct virgl_cmd *c)
{
	memset(c, 0, sizeof(*c));
}

void virgl_cmd_free(struct virgl_cmd *c)
{
	free(c->w);
	virgl_cmd_init(c);
}

void virgl_cmd_reset(struct virgl_cmd *c)
{
	c->n = 0;
	c->err = 0;
}

int virgl_cmd_done(const struct virgl_cmd *c)
{
	return c->err;
}

void virgl_cmd_surface(struct virgl_cmd *c, uint32_t handle, uint32_t res, uint32_t format)
{
	head(c, CCMD_CREATE_OBJECT, VIRGL_OBJECT_SURFACE, 5);
	put(c, handle);
	put(c, res);
	put(c, format);
	put(c, 0); /* level 0 */
	put(c, 0); /* layers 0..0 */
}

void virgl_cmd_blend_opaque(struct virgl_cmd *c, uint32_t handle)
{
	head(c, CCMD_CREATE_OBJECT, VIRGL_OBJECT_BLEND, 11);
	put(c, handle);
	put(c, 0); /* no independent blend, logic op, dither */
	put(c, 0); /* logic op function */
	for (int rt = 0; rt < 8; rt++)
		put(c, 0xfu << 27); /* blending off, colour mask RGBA */
}

void virgl_cmd_dsa_off(struct virgl_cmd *c, uint32_t handle)
{
	head(c, CCMD_CREATE_OBJECT, VIRGL_OBJECT_DSA, 5);
	put(c, handle);
	for (int i = 0; i < 4; i++)
		put(c, 0); /* depth, two stencil faces, alpha ref */
}

void virgl_cmd_rasterizer_fill(struct virgl_cmd *c, uint32_t handle)
{
	head(c, CCMD_CREATE_OBJECT, VIRGL_OBJECT_RASTERIZER, 9);
	put(c, handle);
	/* depth clip, half-pixel centres (GL rules); no culling, filled polygons */
	put(c, 1u << 1 | 1u << 29);
	put(c, f2u(1.0f)); /* point size */
	put(c, 0);	   /* sprite coordinates */
	put(c, 0);	   /* stipple, clip planes */
	put(c, f2u(1.0f)); /* line width */
	put(c, 0);	   /* polygon offset units, scale, clamp */
	put(c, 0);
	put(c, 0);
}

void virgl_cmd_shader(struct virgl_cmd *c, uint32_t handle, uint32_t type, const char *tgsi)
{
	size_t bytes = strlen(tgsi) + 1, words = (bytes + 3) / 4;

	if (words > 0xffff - 5) {
		c->err = c->err ? c->err : -E2BIG;
		return;
	}
	head(c, CCMD_CREATE_OBJECT, OBJECT_SHADER, (uint32_t)(5 + words));
	put(c, handle);
	put(c, type);
	put(c, (uint32_t)bytes); /* the whole text in this one command */
	put(c, 300);		 /* tokens the host may need for it */
	put(c, 0);		 /* no stream output */
	if (reserve(c, words) == 0) {
		c->w[c->n + words - 1] = 0;
		memcpy(&c->w[c->n], tgsi, bytes);
		c->n += words;
	}
}

void virgl_cmd_vertex_elements(struct virgl_cmd *c, uint32_t handle,
			       const struct virgl_vertex_element *e, unsigned int n)
{
	head(c, CCMD_CREATE_OBJECT, VIRGL_OBJECT_VERTEX_ELEMENTS, 1 + 4 * n);
	put(c, handle);
	for (unsigned int i = 0; i < n; i++) {
		put(c, e[i].offset);
		put(c, 0); /* instance divisor */
		put(c, 0); /* vertex buffer 0 */
		put(c, e[i].format);
	}
}

void virgl_cmd_sampler_view(struct virgl_cmd *c, uint32_t handle, uint32_t res, uint32_t format)
{
	head(c, CCMD_CREATE_OBJECT, VIRGL_OBJECT_SAMPLER_VIEW, 6);
	put(c, handle);
	put(c, res);
	put(c, format | (uint32_t)VIRGL_TARGET_TEXTURE_2D << 24);
	put(c, 0); /* layers 0..0 */
	put(c, 0); /* levels 0..0 */
	put(c, SWIZZLE_IDENTITY);
}

void virgl_cmd_sampler_nearest(struct virgl_cmd *c, uint32_t handle)
{
	uint32_t wrap = PIPE_TEX_WRAP_CLAMP_TO_EDGE;

	head(c, CCMD_CREATE_OBJECT, OBJECT_SAMPLER_STATE, 9);
	put(c, handle);
	/* wrap S, T, R; nearest min and mag filters (0); no mipmaps */
	put(c, wrap | wrap << 3 | wrap << 6 | (uint32_t)PIPE_TEX_MIPFILTER_NONE << 11);
	for (int i = 0; i < 7; i++)
		put(c, 0); /* LOD bias, min, max; border colour */
}

void virgl_cmd_destroy(struct virgl_cmd *c, uint32_t object_type, uint32_t handle)
{
	head(c, CCMD_DESTROY_OBJECT, object_type, 1);
	put(c, handle);
}

void virgl_cmd_bind(struct virgl_cmd *c, uint32_t object_type, uint32_t handle)
{
	head(c, CCMD_BIND_OBJECT, object_type, 1);
	put(c, handle);
}

void virgl_cmd_bind_shader(struct virgl_cmd *c, uint32_t handle, uint32_t type)
{
	head(c, CCMD_BIND_SHADER, 0, 2);
	put(c, handle);
	put(c, type);
}

void virgl_cmd_framebuffer(struct virgl_cmd *c, uint32_t surface)
{
	head(c, CCMD_SET_FRAMEBUFFER_STATE, 0, 3);
	put(c, 1); /* one colour buffer */
	put(c, 0); /* no depth buffer */
	put(c, surface);
}

void virgl_cmd_viewport(struct virgl_cmd *c, uint32_t width, uint32_t height)
{
	head(c, CCMD_SET_VIEWPORT_STATE, 0, 7);
	put(c, 0); /* first viewport */
	put(c, f2u((float)width / 2));
	put(c, f2u((float)height / 2));
	put(c, f2u(0.5f));
	put(c, f2u((float)width / 2));
	put(c, f2u((float)height / 2));
	put(c, f2u(0.5f));
}

void virgl_cmd_vertex_buffer(struct virgl_cmd *c, uint32_t res, uint32_t stride)
{
	head(c, CCMD_SET_VERTEX_BUFFERS, 0, 3);
	put(c, stride);
	put(c, 0); /* offset */
	put(c, res);
}

void virgl_cmd_fragment_texture(struct virgl_cmd *c, uint32_t view, uint32_t sampler)
{
	head(c, CCMD_SET_SAMPLER_VIEWS, 0, 3);
	put(c, VIRGL_SHADER_FRAGMENT);
	put(c, 0); /* slot 0 */
	put(c, view);
	head(c, CCMD_BIND_SAMPLER_STATES, 0, 3);
	put(c, VIRGL_SHADER_FRAGMENT);
	put(c, 0);
	put(c, sampler);
}

void virgl_cmd_clear(struct virgl_cmd *c, const float rgba[4])
{
	head(c, CCMD_CLEAR, 0, 8);
	put(c, PIPE_CLEAR_COLOR0);
	for (int i = 0; i < 4; i++)
		put(c, f2u(rgba[i]));
	put(c, 0); /* depth (a double) */
	put(c, 0);
	put(c, 0); /* stencil */
}

void virgl_cmd_buffer_write(struct virgl_cmd *c, uint32_t res, const void *data, uint32_t len)
{
	uint32_t words = len / 4;

	if (len % 4 || words > 0xffff - 11) {
		c->err = c->err ? c->err : -EINVAL;
		return;
	}
	head(c, CCMD_RESOURCE_INLINE_WRITE, 0, 11 + words);
	put(c, res);
	put(c, 0); /* level */
	put(c, 0); /* usage */
	put(c, 0); /* stride */
	put(c, 0); /* layer stride */
	put(c, 0); /* x, y, z */
	put(c, 0);
	put(c, 0);
	put(c, len); /* w, h, d */
	put(c, 1);
	put(c, 1);
	if (reserve(c, words) == 0) {
		memcpy(&c->w[c->n], data, len);
		c->n += words;
	}
}

void virgl_cmd_draw_strip(struct virgl_cmd *c, uint32_t count)
{
	head(c, CCMD_DRAW_VBO, 0, 12);
	put(c, 0); /* start */
	put(c, count);
	put(c, PIPE_PRIM_TRIANGLE_STRIP);
	put(c, 0); /* not indexed */
	put(c, 1); /* one instance */
	put(c, 0); /* index bias */
	put(c, 0); /* start instance */
	put(c, 0); /* no primitive restart */
	put(c, 0);
	put(c, 0);	   /* min index */
	put(c, count - 1); /* max index */
	put(c, 0);	   /* not from stream output */
}
