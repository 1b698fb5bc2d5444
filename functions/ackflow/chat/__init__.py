"""Google Chat in Ackflow's own terms: events in, replies and cards out, and the ChatClient port."""
