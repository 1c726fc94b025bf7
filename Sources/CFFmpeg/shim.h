// Wrappers for FFmpeg macros and version differences that Swift cannot import. No other logic lives here.
#ifndef FRAMECAST_CFFMPEG_SHIM_H
#define FRAMECAST_CFFMPEG_SHIM_H

#include <libavformat/avformat.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/error.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libavutil/log.h>
#include <libavutil/display.h>
#include <math.h>
#include <libswscale/swscale.h>

static inline int cff_averror(int errnum) { return AVERROR(errnum); }
static inline int cff_averror_eof(void) { return AVERROR_EOF; }
static inline int cff_averror_eagain(void) { return AVERROR(EAGAIN); }
static inline int64_t cff_nopts_value(void) { return AV_NOPTS_VALUE; }
static inline int cff_error_buf_size(void) { return AV_ERROR_MAX_STRING_SIZE; }
static inline int cff_fmt_globalheader(void) { return AVFMT_GLOBALHEADER; }
static inline int cff_fmt_nofile(void) { return AVFMT_NOFILE; }
static inline int cff_codec_flag_global_header(void) { return AV_CODEC_FLAG_GLOBAL_HEADER; }
static inline int cff_time_base(void) { return AV_TIME_BASE; }

/// The clockwise rotation, in degrees, that a stream's display matrix asks a player to apply (0
/// when it has none). The matrix moved from the stream to its codec parameters in FFmpeg 6.1.
static inline double cff_stream_display_rotation(const AVStream *stream) {
    const int32_t *matrix = NULL;
#if LIBAVFORMAT_VERSION_INT >= AV_VERSION_INT(60, 15, 100)
    const AVPacketSideData *sd = av_packet_side_data_get(stream->codecpar->coded_side_data,
                                                         stream->codecpar->nb_coded_side_data,
                                                         AV_PKT_DATA_DISPLAYMATRIX);
    if (sd && sd->size >= 9 * sizeof(int32_t)) matrix = (const int32_t *)sd->data;
#else
    size_t size = 0;
    const uint8_t *data = av_stream_get_side_data(stream, AV_PKT_DATA_DISPLAYMATRIX, &size);
    if (data && size >= 9 * sizeof(int32_t)) matrix = (const int32_t *)data;
#endif
    if (!matrix) return 0;
    double counterclockwise = av_display_rotation_get(matrix);
    return isnan(counterclockwise) ? 0 : -counterclockwise;
}

#endif
