"""Training: enrolment, lesson and course progress, certificates, the learner's pages."""
