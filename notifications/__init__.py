"""In-app notifications and their e-mails: serious adverse events, response alerts."""
