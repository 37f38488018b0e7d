// The process exit codes of every layerplan command, the CLI's and the smoke run's alike.
// Header-only (base/): lib/, cli/ and smoke/ include it; it depends on nothing.
#pragma once

namespace layerplan {

enum ExitCode : int {
  kExitOk = 0,           // valid, or every group proven (warnings allowed unless --werror)
  kExitInvalid = 1,      // the plan or an input is invalid
  kExitUsage = 2,        // usage error, unreadable input, an output that cannot be written
  kExitSmokeFailed = 3,  // smoke: a group's membership or data wrong, or bandwidth below the gate
  kExitSmokeError = 4,   // smoke: CUDA/NCCL/MPI error or watchdog timeout
};

}  // namespace layerplan
