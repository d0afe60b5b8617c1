//! Voicemail sync from the account's IMAP mailbox into the store, and the unheard-message count that drives the red dot.
