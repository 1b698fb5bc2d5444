"""Local services that speak Google's public REST APIs (Cloud Tasks, Chat), for dev and tests.

They are generic stand-ins for the Google APIs and know nothing about Ackflow's jobs.
"""
