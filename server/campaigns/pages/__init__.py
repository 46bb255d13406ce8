"""Console pages for campaigns, one module (and blueprint) per page family:

- `campaigns`: the list, a campaign's page and its editor, and the campaign-file upload;
- `desk`: the approval desk;
- `calendars`: a campaign's week and the fleet calendar;
- `preview`: what plays where, and why.
"""
