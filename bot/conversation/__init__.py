"""What a dialogue turn produces: the typed commands the custom actions hand to the service layer,
the replies they produce, and the plain template values those replies carry."""
