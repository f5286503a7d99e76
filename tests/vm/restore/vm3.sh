# The client of the restore test: both nodes answer through the VIP once
# node 2 came back from its saved configuration.
tp_barrier ready
tp_barrier restored
n=60
out=$(tptest connect-many 10.0.0.100 80 $n)
tp_info "$(echo "$out" | tr '\n' ' ')"
tp_expect_eq "connections, and failed ones" "$(echo "$out" | head -n 1)" "connections=$n failed=0"
for vm in vm1 vm2; do
	tp_expect "$vm served some of them" [ "$(echo "$out" | sed -n "s/^$vm=//p")" -gt 0 ]
done
# Each node checks its service's connection count against its share.
tp_barrier fetched "vm1=$(echo "$out" | sed -n 's/^vm1=//p')" "vm2=$(echo "$out" | sed -n 's/^vm2=//p')"
