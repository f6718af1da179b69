"""The web pages, by audience: home (everyone's board and notifications), referrals (the form,
the referral page, the school's actions), queue (the triage queue, claiming, the decision),
cases (the case file and its changes), network (the directory, the helpline, the indicators),
attachments. One view per change; reads through casework.selectors, changes through
casework.services, a protocol step only through protocols.steps.run_step."""
