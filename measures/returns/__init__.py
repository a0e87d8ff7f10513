"""The returns workflow (SPEC §5): departments enter quarterly figures, reviewers decide.

- `workflow`: who may take which action in which state (the `WORKFLOW` table), and finding a
  return for a person (404 if they may not see it, 403 if they may not act on it).
- `services`: every write of a return's figures, headlines and state — form, API, import and
  admin alike — atomic, permission-checked and audited.
- `rows`: which figures a return asks for, with the context shown beside each.
- `validation`: the checks on a typed figure; `notifications`: the e-mails.
- `forms`, `views`, `urls`, `filters`, `progress`: the pages; `api`: the API for source
  systems; `tasks`: reminders and opening reporting periods on schedule.
"""
