# tests/crash/gold.sh - the gold pipeline's types and aggregates, shared by
# the crash harness and tests/exactly-once.bats, which run the same pipeline
# (sourced, sets EVENT, GOLD and AGG).
# shellcheck disable=SC2034
EVENT='event_id STRING NOT NULL, user_id BIGINT NOT NULL, session STRING NOT NULL,
	ts TIMESTAMP NOT NULL, action STRING NOT NULL, url STRING, amount DECIMAL(10,2),
	country STRING, device STRING'
GOLD='window_start TIMESTAMP NOT NULL, window_end TIMESTAMP NOT NULL, device STRING,
	events BIGINT NOT NULL, users BIGINT NOT NULL, revenue DECIMAL(38,2)'
AGG='count(*) AS events, count_distinct(user_id) AS users, sum(amount) AS revenue'
