/* scenario_list.h — every scenario, once: its name and the call that runs
 * it (`name` is the scenario's name). scenarios.c's main runs the one
 * named on its command line and `scenarios list` prints them; meson.build
 * reads this file and makes one test of each (scenario-NAME), so a
 * scenario added here is run by the suite without another list to edit.
 * One scenario a line, as SCENARIO("name", call) — meson reads the name
 * between the first two quotes of each line that starts with SCENARIO(.
 */
SCENARIO("lost-token", scenario_lost_token())
SCENARIO("loss-burst-1path", scenario_loss_burst(1, name))
SCENARIO("loss-burst-2paths", scenario_loss_burst(2, name))
SCENARIO("seq-wrap", scenario_wrap())
SCENARIO("big-message", scenario_big_message())
SCENARIO("crash-during-recovery", scenario_crash_in_recovery())
SCENARIO("partition-merge", scenario_partition_merge())
SCENARIO("token-holder-crash", scenario_token_holder_crash(false))
SCENARIO("token-holder-crash-default-timeouts", scenario_token_holder_crash(true))
SCENARIO("two-restarts", scenario_two_restarts())
SCENARIO("big-message-membership-change", scenario_big_message_change())
SCENARIO("stale-incarnation", scenario_stale_incarnation())
SCENARIO("forged-join", scenario_forged_join())
SCENARIO("path-cut-active", scenario_path_cut(RP_RRP_ACTIVE, false, false, name))
SCENARIO("path-cut-passive", scenario_path_cut(RP_RRP_PASSIVE, false, false, name))
SCENARIO("path-cut-active-default-timeouts", scenario_path_cut(RP_RRP_ACTIVE, true, false, name))
SCENARIO("path-cut-passive-default-timeouts", scenario_path_cut(RP_RRP_PASSIVE, true, false, name))
SCENARIO("path-link-down-passive", scenario_path_cut(RP_RRP_PASSIVE, false, true, name))
SCENARIO("node-paths-cut", scenario_node_paths_cut())
SCENARIO("path-flap-active", scenario_path_flap(RP_RRP_ACTIVE, name))
SCENARIO("path-flap-passive", scenario_path_flap(RP_RRP_PASSIVE, name))
SCENARIO("multipath-cut-0", scenario_multipath_cut(0, 0, name))
SCENARIO("multipath-cut-1", scenario_multipath_cut(1, 0, name))
SCENARIO("multipath-cut-2", scenario_multipath_cut(2, 0, name))
SCENARIO("multipath-cut-0-after-calm", scenario_multipath_cut(0, 6000, name))
SCENARIO("even-split-majority", scenario_even_split(RP_QUORUM_MAJORITY, name))
SCENARIO("even-split-last-man-standing", scenario_even_split(RP_QUORUM_LAST_MAN_STANDING, name))
SCENARIO("two-node", scenario_two_node())
SCENARIO("versions-disjoint", scenario_versions_disjoint())
SCENARIO("config-mismatch", scenario_config_mismatch())
SCENARIO("duplicate-id", scenario_duplicate_id())
SCENARIO("versions-rolling", scenario_versions_rolling())
SCENARIO("token-hold-3", scenario_token_hold(3, name))
SCENARIO("token-hold-7", scenario_token_hold(7, name))
SCENARIO("accelerated", scenario_accelerated())
SCENARIO("lent-frames", scenario_lent_frames())
