# Target of the failure primitives: it only needs to be up.
tp_barrier up
tp_barrier checked
# VM 2 kills this VM next: it never gets further.
sleep 600
tp_fail "still running after the power cut"
