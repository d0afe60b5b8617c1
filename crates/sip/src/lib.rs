//! SIP signalling for Sidetone: accounts, registration, calls, transfers and subscriptions (MWI), as sans-IO state machines over a maintained SIP stack that stays behind our own types.
