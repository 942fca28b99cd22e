/*
 * test_render - vmbuf-render's pieces that need no GPU: every command the
 * virgl encoder writes is as long as its header says (so virglrenderer's
 * decoder walks the stream command by command), shader text is NUL-padded,
 * a bad inline write poisons the stream instead of writing half a command;
 * and the frame check finds a wrong pixel inside and outside the texture's
 * rectangle and treats XRGB's fourth byte as opaque.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "expect.h"
#include "virgl_cmd.h"
#include "../check.h"

/* The number of commands in @c when every header's length is right, else -1. */
static int walk(const struct virgl_cmd *c)
{
	size_t i = 0;
	int n = 0;

	while (i < c->n) {
		i += 1 + (c->w[i] >> 16);
		n++;
	}
	return i == c->n ? n : -1;
}

int main(void)
{
	static const struct virgl_vertex_element ve[2] = { { 0, 31 }, { 16, 31 } };
	static const char tgsi[] = "FRAG\nEND\n";	/* 10 bytes with the NUL */
	const float rgba[4] = { 0, 0, 0, 1 };
	uint32_t words[4] = { 1, 2, 3, 4 };
	struct virgl_cmd c;
	size_t at;

	virgl_cmd_init(&c);
	virgl_cmd_surface(&c, 1, 2, VIRGL_FORMAT_B8G8R8A8_UNORM);
	virgl_cmd_blend_opaque(&c, 1);
	virgl_cmd_dsa_off(&c, 1);
	virgl_cmd_rasterizer_fill(&c, 1);
	virgl_cmd_vertex_elements(&c, 1, ve, 2);
	virgl_cmd_sampler_view(&c, 1, 2, VIRGL_FORMAT_B8G8R8X8_UNORM);
	virgl_cmd_sampler_nearest(&c, 1);
	virgl_cmd_bind(&c, VIRGL_OBJECT_BLEND, 1);
	virgl_cmd_destroy(&c, VIRGL_OBJECT_SURFACE, 1);
	virgl_cmd_bind_shader(&c, 1, VIRGL_SHADER_FRAGMENT);
	virgl_cmd_framebuffer(&c, 1);
	virgl_cmd_viewport(&c, 64, 48);
	virgl_cmd_vertex_buffer(&c, 9, 32);
	virgl_cmd_fragment_texture(&c, 1, 1);	/* two commands */
	virgl_cmd_clear(&c, rgba);
	virgl_cmd_buffer_write(&c, 9, words, sizeof(words));
	virgl_cmd_draw_strip(&c, 4);
	at = c.n;
	virgl_cmd_shader(&c, 1, VIRGL_SHADER_FRAGMENT, tgsi);
	CHECK(virgl_cmd_done(&c) == 0 && walk(&c) == 19,
	      "cmd: every command is as long as its header says");
	CHECK((c.w[at] & 0xff) == 1 && (c.w[at] >> 8 & 0xff) == 4 && c.w[at] >> 16 == 5 + 3 &&
	      c.w[at + 3] == sizeof(tgsi) && memcmp(&c.w[at + 6], tgsi, sizeof(tgsi)) == 0 &&
	      ((const uint8_t *)&c.w[at + 6])[11] == 0,
	      "cmd: a shader carries its text's length with the NUL, padded with zeros");
	at = c.n;
	virgl_cmd_buffer_write(&c, 9, words, 6);
	CHECK(virgl_cmd_done(&c) == -EINVAL && c.n == at,
	      "cmd: an inline write of a length not a multiple of 4 poisons the stream");
	virgl_cmd_reset(&c);
	CHECK(c.n == 0 && virgl_cmd_done(&c) == 0, "cmd: reset empties the stream");
	virgl_cmd_free(&c);

	/* A 4x3 frame with a 2x1 texture at 1,1. */
	uint32_t frame[12], src[2] = { 0x11223344, 0x55667788 };
	const uint32_t clear = 0xff204080;
	struct pixels fi = { (const uint8_t *)frame, 4, 3, 16, false };
	struct pixels si = { (const uint8_t *)src, 2, 1, 8, false };

	for (int i = 0; i < 12; i++)
		frame[i] = clear;
	frame[5] = src[0];
	frame[6] = src[1];
	CHECK(expect_check(&fi, &si, 1, 1, clear) == -1, "expect: the right frame passes");
	frame[6] = clear;
	CHECK(expect_check(&fi, &si, 1, 1, clear) == 6, "expect: a texel not drawn is found");
	frame[6] = src[1];
	frame[11] = 0xff204081;
	CHECK(expect_check(&fi, &si, 1, 1, clear) == 11, "expect: a wrong clear pixel is found");
	frame[11] = clear;
	si.opaque = true;
	CHECK(expect_check(&fi, &si, 1, 1, clear) == 5 &&
	      expect_pixel(&si, 1, 1, clear, 1, 1) == 0xff223344,
	      "expect: XRGB's fourth byte is taken as opaque");
	return check_done();
}
