/* samvideo's bridge to the SVT-AV1 encoder library (libSvtAv1Enc, 1.x).
 *
 * Why C: the library's configuration struct has over a hundred fields whose layout changes
 * between releases; compiled here against the installed header, the layout is right by
 * construction and Rust sees seven small functions (src/encode/svt_av1.rs). Nothing else
 * lives here: every decision (preset, CRF, key-frame interval) comes from the Rust side. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <EbSvtAv1Enc.h>

typedef struct samvideo_svt {
    EbComponentType *handle;
    EbSvtAv1EncConfiguration cfg;
    int initialized;
} samvideo_svt;

/* A new encoder, or NULL (and *err set to SVT's error code) if the library refuses. */
samvideo_svt *samvideo_svt_open(uint32_t width, uint32_t height, uint32_t fps_num, uint32_t fps_den,
                                int32_t preset, uint32_t crf, int32_t keyint, uint32_t threads, int32_t *err) {
    samvideo_svt *e = calloc(1, sizeof *e);
    if (!e) {
        *err = -1;
        return NULL;
    }
    EbErrorType r = svt_av1_enc_init_handle(&e->handle, NULL, &e->cfg);
    if (r != EB_ErrorNone) {
        *err = (int32_t)r;
        free(e);
        return NULL;
    }
    EbSvtAv1EncConfiguration *c = &e->cfg;
    c->source_width = width;
    c->source_height = height;
    c->frame_rate_numerator = fps_num;
    c->frame_rate_denominator = fps_den;
    c->encoder_bit_depth = 8;
    c->encoder_color_format = EB_YUV420;
    c->enc_mode = (int8_t)preset;
    c->rate_control_mode = 0; /* CRF (with the default temporal look-ahead) */
    c->qp = crf;
    c->intra_period_length = keyint - 1;
    c->intra_refresh_type = SVT_AV1_KF_REFRESH; /* closed GOPs: every key frame is a real one */
    c->scene_change_detection = 0;
    c->logical_processors = threads;
    c->pin_threads = 0;
    c->color_primaries = EB_CICP_CP_BT_709;
    c->transfer_characteristics = EB_CICP_TC_BT_709;
    c->matrix_coefficients = EB_CICP_MC_BT_709;
    c->color_range = EB_CR_STUDIO_RANGE;
    /* Memory: each encoder held ~300 MB at 720p with SVT's defaults (a look-ahead and 32-frame
     * mini-GOPs); no look-ahead and 8-frame mini-GOPs hold ~150 MB for 12 % more bytes at the
     * same SSIM-Y on the Ken Burns job (docs/performance.md, "Issue 18, fourth pass"). */
    c->look_ahead_distance = 0;
    c->hierarchical_levels = 3;
    r = svt_av1_enc_set_parameter(e->handle, c);
    if (r == EB_ErrorNone) r = svt_av1_enc_init(e->handle);
    if (r != EB_ErrorNone) {
        *err = (int32_t)r;
        svt_av1_enc_deinit_handle(e->handle);
        free(e);
        return NULL;
    }
    e->initialized = 1;
    *err = 0;
    return e;
}

/* Queue one 8-bit 4:2:0 picture (the library copies it) shown at `pts`. */
int32_t samvideo_svt_send(samvideo_svt *e, const uint8_t *y, const uint8_t *u, const uint8_t *v, uint32_t width,
                          uint32_t height, int64_t pts) {
    EbSvtIOFormat pic;
    memset(&pic, 0, sizeof pic);
    pic.luma = (uint8_t *)y;
    pic.cb = (uint8_t *)u;
    pic.cr = (uint8_t *)v;
    pic.y_stride = width;
    pic.cb_stride = width / 2;
    pic.cr_stride = width / 2;
    pic.width = width;
    pic.height = height;
    EbBufferHeaderType in;
    memset(&in, 0, sizeof in);
    in.size = sizeof in;
    in.p_buffer = (uint8_t *)&pic;
    in.n_filled_len = width * height * 3 / 2;
    in.n_alloc_len = in.n_filled_len;
    in.pts = pts;
    in.pic_type = EB_AV1_INVALID_PICTURE;
    return (int32_t)svt_av1_enc_send_picture(e->handle, &in);
}

/* No more pictures. */
int32_t samvideo_svt_flush(samvideo_svt *e) {
    EbBufferHeaderType in;
    memset(&in, 0, sizeof in);
    in.size = sizeof in;
    in.flags = EB_BUFFERFLAG_EOS;
    in.pic_type = EB_AV1_INVALID_PICTURE;
    return (int32_t)svt_av1_enc_send_picture(e->handle, &in);
}

/* The next packet, copied into a buffer the caller frees with samvideo_svt_free_packet.
 * Returns 1 with a packet, 0 when none is ready (`wait` = 0) , 2 after the last one, < 0 on
 * an error. `wait` = 1 blocks until a packet comes (only after samvideo_svt_flush). */
int32_t samvideo_svt_receive(samvideo_svt *e, int32_t wait, uint8_t **data, uint32_t *len, int32_t *keyframe,
                             int64_t *pts) {
    EbBufferHeaderType *out = NULL;
    EbErrorType r = svt_av1_enc_get_packet(e->handle, &out, (uint8_t)(wait ? 1 : 0));
    if (r == EB_NoErrorEmptyQueue) return 0;
    if (r != EB_ErrorNone || !out) return r == EB_ErrorNone ? -1 : (int32_t)r;
    int32_t eos = (out->flags & EB_BUFFERFLAG_EOS) != 0;
    *len = out->n_filled_len;
    *data = NULL;
    if (out->n_filled_len > 0) {
        *data = malloc(out->n_filled_len);
        if (!*data) {
            svt_av1_enc_release_out_buffer(&out);
            return -1;
        }
        memcpy(*data, out->p_buffer, out->n_filled_len);
    }
    *keyframe = out->pic_type == EB_AV1_KEY_PICTURE;
    *pts = out->pts;
    svt_av1_enc_release_out_buffer(&out);
    if (eos && *len == 0) return 2;
    return eos ? 3 : 1;
}

void samvideo_svt_free_packet(uint8_t *data) { free(data); }

/* The library's version as it reports it ("v1.4.1"). */
const char *samvideo_svt_version(void) { return svt_av1_get_version(); }

void samvideo_svt_close(samvideo_svt *e) {
    if (!e) return;
    if (e->initialized) svt_av1_enc_deinit(e->handle);
    svt_av1_enc_deinit_handle(e->handle);
    free(e);
}
