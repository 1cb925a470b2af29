-- The worktray's open cases of one service, latest update first: without this SQLite walks the
-- `updated_at` index past every other service's case and every closed one to fill a page
-- (hundreds of milliseconds at a million cases). An index by team and update was tried too: it
-- led SQLite's planner away from `cases_open_due` for the open cases of several teams by due
-- date, from 5 ms to 1.7 s, so there is none.
CREATE INDEX cases_open_service_updated ON cases (service, updated_at, number) WHERE open;
