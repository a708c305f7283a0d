"""The shared database of the Kunming agreement: indicators, look-ups and sightings."""
