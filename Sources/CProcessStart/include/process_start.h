#ifndef FRAMECAST_PROCESS_START_H
#define FRAMECAST_PROCESS_START_H

/// 1 when the load-time hook tried to re-execute the process with OMP_WAIT_POLICY=PASSIVE and
/// execve failed (so trying again from `main` is pointless), else 0. A successful re-exec never
/// returns: the new process image, which has the variable, reports 0.
int fc_wait_policy_restart_failed(void);

/// Asks the kernel for SIGTERM when the parent process ends. Returns 0, or -1 when the parent is
/// no longer `parent` (it already ended) or the call failed.
int fc_end_with_parent(int parent);

#endif
