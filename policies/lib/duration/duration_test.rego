package meshguard.lib.duration_test

import data.meshguard.lib.duration

test_ns_of_istio_and_go_durations if {
	duration.ns("1.5s") == 1500000000
	duration.ns("15s") == 15000000000
	duration.ns("1h30m") == 5400000000000
	duration.ns("250ms") == 250000000
	duration.ns("0s") == 0
}

test_ns_undefined_when_unparsable if {
	not duration.ns("fifteen seconds")
	not duration.ns("15")
	not duration.ns("")
}

test_unset_absent_or_zero if {
	duration.unset({}, "timeout")
	duration.unset({"timeout": "0s"}, "timeout")
	duration.unset({"timeout": "0"}, "timeout")
	duration.unset({"timeout": "0m0.000s"}, "timeout")
	duration.unset({"perTryTimeout": "5s"}, "timeout")
}

test_not_unset_when_set if {
	not duration.unset({"timeout": "1ms"}, "timeout")
	not duration.unset({"timeout": "15s"}, "timeout")
}

# An unparsable value is neither unset nor comparable: rules see nothing.
test_not_unset_when_unparsable if {
	not duration.unset({"timeout": "soon"}, "timeout")
}
