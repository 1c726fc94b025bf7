// Wrappers for FFmpeg macros that Swift cannot import. No logic lives here.
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

#endif
