"""rllib"""
