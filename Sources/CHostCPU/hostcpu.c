// The header's one function is static inline; this file gives SwiftPM a source to build.
#include "hostcpu.h"
