// A data-parallel worker started by `--nproc` ends with its launcher: the kernel sends it SIGTERM
// when the launcher exits, however the launcher ends (PR_SET_PDEATHSIG).
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "process_start.h"

int fc_end_with_parent(int parent) {
  if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) return -1;
  return getppid() == parent ? 0 : -1;   // the launcher may have ended before the call
}
