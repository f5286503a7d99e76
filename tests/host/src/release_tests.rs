/// The module's release (set in Kbuild, shown by modinfo and
/// /sys/module/tpcluster/version) and tpctl's are one number: `tpctl
/// --version` prints both, and an operator compares them.
#[test]
fn module_and_tpctl_share_the_release() {
    let kbuild = include_str!("../../../Kbuild");
    let tpctl = include_str!("../../../tools/tpctl/Cargo.toml");
    let module = kbuild
        .lines()
        .find_map(|l| l.strip_prefix("TPC_VERSION := "))
        .expect("TPC_VERSION in Kbuild");
    let tool = tpctl
        .lines()
        .find_map(|l| l.strip_prefix("version = "))
        .expect("version in tpctl's Cargo.toml")
        .trim_matches('"');
    assert_eq!(module, tool);
}
