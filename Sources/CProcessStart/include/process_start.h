#ifndef FRAMECAST_PROCESS_START_H
#define FRAMECAST_PROCESS_START_H

/// 1 when the load-time hook tried to re-execute the process with OMP_WAIT_POLICY=PASSIVE and
/// execve failed (so trying again from `main` is pointless), else 0. A successful re-exec never
/// returns: the new process image, which has the variable, reports 0.
int fc_wait_policy_restart_failed(void);

#endif
