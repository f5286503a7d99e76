# Target of the failure primitives: it only needs to be up. VM 2 powers it
# off while it waits at the last barrier, which VM 2 never joins: if VM 2
# ends without the power cut, the barrier opens and this VM fails.
tp_barrier up
tp_barrier checked
tp_barrier power-cut
tp_fail "still running: the power cut did not happen"
