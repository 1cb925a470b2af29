-- The worktray's open cases of one service or team, latest update first: without these the
-- database reads every open case of the service or team to sort them (hundreds of
-- milliseconds at a million cases on SQLite) rather than the first page of an index.
CREATE INDEX cases_open_service_updated ON cases (service, updated_at, number) WHERE open;
CREATE INDEX cases_open_team_updated ON cases (team, updated_at, number) WHERE open;
