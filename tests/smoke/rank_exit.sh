#!/bin/sh
# Runs one MPI process of a test and prints how it ended, so that a test can check each process's
# exit status (mpirun's own status says little once a process was killed).
"$@"
rc=$?
echo "process ${OMPI_COMM_WORLD_RANK:-${PMI_RANK:-?}} exited with status $rc" >&2
exit $rc
