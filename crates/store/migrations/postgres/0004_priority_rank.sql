-- Where a case's priority stands in its service's list of priorities, most urgent first (0), so
-- that lists sort by priority and page by keyset like the other orders. The lists are in the
-- service definitions, which the database does not hold: existing cases start at 0, and the app
-- ranks them from the definitions when it starts (`App::rank_priorities`), which also follows a
-- definition that reorders its priorities later.
ALTER TABLE cases ADD COLUMN priority_rank INTEGER NOT NULL DEFAULT 0;

-- The ranks last applied to the cases: a start whose definitions rank every priority as before
-- leaves the cases alone instead of reading all of them.
CREATE TABLE priority_ranks (
    service TEXT NOT NULL,
    priority TEXT NOT NULL,
    rank INTEGER NOT NULL,
    PRIMARY KEY (service, priority)
);

-- The worktray's priority order over open cases, most urgent first and then soonest due: for
-- every team at once, and within a team, as the due order has them.
CREATE INDEX cases_open_priority_due ON cases (priority_rank, sla_due_at, number) WHERE open;
CREATE INDEX cases_open_team_priority_due ON cases (team, priority_rank, sla_due_at, number)
    WHERE open;
