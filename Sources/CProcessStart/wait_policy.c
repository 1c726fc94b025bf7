// wait_policy.c — start libgomp with OMP_WAIT_POLICY=PASSIVE, cheaply.
//
// libgomp reads OMP_WAIT_POLICY once, in its own initializer, before `main`; spinning OpenMP
// threads stall both cores under load (docs/numerics.md). So when the variable is unset, the
// process must be re-executed with it. Doing that from `main` (Torch.ensureProcessEnvironment)
// let libtorch run its static initializers twice, ~0.45 s of a 0.9 s start. An executable's
// .preinit_array runs after the libraries are mapped but before any of their initializers, so
// re-executing there costs only the loading: `framecast --version` 0.9 s → 0.5 s.
//
// Setting the variable in place does not work at that point: libc's own initializer, which runs
// before libgomp's, resets `environ` to the block the process started with (measured: libgomp
// then spins as with the variable unset). The hook is in every executable that links this
// target, the test runner included; `Tools/test` sets the variable, so there it does nothing.
#include "process_start.h"

#include <stddef.h>
#include <string.h>
#include <unistd.h>

static const char policy[] = "OMP_WAIT_POLICY=PASSIVE";
static int restart_failed = 0;

static int has_variable(char **envp, const char *name) {
  size_t n = strlen(name);
  for (char **e = envp; e && *e; e++) {
    if (strncmp(*e, name, n) == 0 && (*e)[n] == '=') return 1;
  }
  return 0;
}

static void restart_with_wait_policy(int argc, char **argv, char **envp) {
  (void)argc;
  if (has_variable(envp, "OMP_WAIT_POLICY") || has_variable(envp, "GOMP_SPINCOUNT") ||
      has_variable(envp, "FRAMECAST_NO_REEXEC")) {
    return;
  }
  size_t n = 0;
  while (envp[n]) n++;
  char *with_policy[n + 2];  // the process's variables, the policy, NULL
  for (size_t i = 0; i < n; i++) with_policy[i] = envp[i];
  with_policy[n] = (char *)policy;
  with_policy[n + 1] = NULL;
  execve("/proc/self/exe", argv, with_policy);
  restart_failed = 1;  // execve returns only on failure: carry on with libgomp's defaults
}

__attribute__((section(".preinit_array"), used)) static void (*const restart_entry)(int, char **, char **) =
    restart_with_wait_policy;

int fc_wait_policy_restart_failed(void) { return restart_failed; }
