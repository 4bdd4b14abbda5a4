"""The ERP port and its implementations (an in-process simulator and Tryton)."""
